#!/usr/bin/python3
"""body.py FILE: prints the decoded subject, text part and HTML part of
one message, as a mail client shows them."""
import email
import email.policy
import sys

with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
print("subject:", m["Subject"])
# a base64 part keeps its CRLFs: show lines as a client does
for kind in ("plain", "html"):
    if kind == "html":
        print("--- html ---")
    body = m.get_body(preferencelist=(kind,)).get_content()
    print(body.replace("\r\n", "\n"), end="")
