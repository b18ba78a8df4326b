Subject: x

text
--- html ---
<p>inline</p>
