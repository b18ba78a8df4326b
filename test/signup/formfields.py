#!/usr/bin/python3
"""formfields.py URL: fetches the page at URL and prints its form's
method and action, then the name of each input, as a browser sees them."""
import html.parser
import sys
import urllib.request


class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            print(a.get("method"), a.get("action"))
        elif tag in ("input", "button"):
            print(tag, a.get("name") or "", a.get("type") or "")


P().feed(urllib.request.urlopen(sys.argv[1]).read().decode())
