Subject: {{title|News}}
Title: {{title|News}}

Text for {{first_name}}.
