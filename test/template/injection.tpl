Subject: Hello {{first_name}}
From: {{sender|Shop}} <news@shop.example>

Hello {{first_name}}
