Subject: Welcome, {{first_name:title|friend}}!
From: Shop <news@shop.example>
Reply-To: help@shop.example
Preheader: Your {{attrs.city|local}} store says hi

Hi {{first_name:title|friend}},

Thanks for joining. Your nearest store: {{attrs.city|our web shop}}.
--- html ---
<html><body>
<p>Hi {{first_name:title|friend}},</p>
<p><a href="https://shop.example/stores?city={{attrs.city}}">{{attrs.city}}</a></p>
</body></html>
