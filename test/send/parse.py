#!/usr/bin/python3
"""parse.py FILE...: prints, per message, what a mail client sees: the
decoded From, To, Subject, whether List-Unsubscribe is there, the MIME
types and the decoded text part's first line; and every header name, so
that a test can see no header was injected."""
import email
import email.policy
import sys

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    text = m.get_body(preferencelist=("plain",)).get_content()
    print("from:", m["From"])
    print("to:", m["To"])
    print("subject:", m["Subject"])
    print("headers:", " ".join(k for k in m.keys()))
    print("types:", m.get_content_type(),
          " ".join(p.get_content_type() for p in m.iter_parts()))
    print("text:", text.splitlines()[0])
