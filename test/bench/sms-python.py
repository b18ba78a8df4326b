#!/usr/bin/python3
"""sms-python.py PORT COUNT: the peer of the sms bench part -- a Python
user's loop POSTing COUNT Twilio-style SMS requests over one
http.client keep-alive connection, checking each answer."""
import base64
import http.client
import sys
import urllib.parse

AUTH = "Basic " + base64.b64encode(b"AC0123456789:authtoken").decode()


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    con = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": AUTH, "Accept": "application/json"}
    for i in range(count):
        body = urllib.parse.urlencode({
            "To": "+97250%07d" % (i + 1), "From": "+15005550006",
            "Body": "Autumn sale: 20%% off everything until Sunday, Name%d. "
                    "Code AUTUMN20. Reply STOP to opt out" % (i + 1)})
        con.request("POST", "/2010-04-01/Accounts/AC0123456789/Messages.json",
                    body, headers)
        r = con.getresponse()
        if r.status != 201 or b'"sid"' not in r.read():
            sys.exit("sms-python: status %d" % r.status)
    con.close()


if __name__ == "__main__":
    main()
