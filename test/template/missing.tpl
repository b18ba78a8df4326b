Subject: Hi {{first_name}}

Hi {{first_name}},
