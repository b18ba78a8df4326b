Subject: x

text
--- html ---
<p>fine {{a}}</p>
<p>Hi {{first_name </p>
