Subject: {{first_name|hi}}

line one
Hi {{first_name}}
--- html ---
<p>{{first_name}}</p>
