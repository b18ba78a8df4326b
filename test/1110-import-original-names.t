#!/bin/sh
# import-list keeps the column name each attrs key was made from
# ("Default Address City" for default_address_city), and output read by
# people shows it: segment --original-names (CSV, JSON and table
# headers), contact show after each key.  Segments and templates
# use the key; the latest import's name wins; --map keeps the column's.
. "$(dirname "$0")/lib.sh"
plan 11

S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >config.yaml
imp() { nudge import-list --config config.yaml "$@" 2>/dev/null; }

imp "$S/shopify-customers.csv"
is "the keys are normalised and known to send's template check" \
    "$(sql "SELECT key FROM attr_keys WHERE key LIKE 'default_address_c%' OR key = 'total_spent' ORDER BY key")" \
"default_address_city
default_address_company
default_address_country_code
total_spent"
is "each kept with the column it came from" \
    "$(sql "SELECT key, name FROM attr_names WHERE key IN ('default_address_city', 'total_spent') ORDER BY key")" \
"default_address_city	Default Address City
total_spent	Total Spent"
is "segments name the key" \
    "$(nudge segment -f csv --fields email,default_address_city,total_spent 'default_address_city = "Haifa"' | tr -d '\r')" \
"email,default_address_city,total_spent
dana@example.com,Haifa,420.50
bad-phone@example.com,Haifa,0.00"
is "--original-names: the CSV header as the export had it" \
    "$(nudge segment -f csv --original-names --fields email,default_address_city,total_spent 'default_address_city = "Haifa"' | tr -d '\r')" \
"email,Default Address City,Total Spent
dana@example.com,Haifa,420.50
bad-phone@example.com,Haifa,0.00"
is "JSON keys too" \
    "$(nudge segment -f json --original-names --fields id,default_address_city 'id = 1')" \
    '{"id":1,"Default Address City":"Haifa"}'
is "a table header too" \
    "$(nudge segment -f table --original-names --fields id,total_orders 'id = 1' | head -n 1)" \
    "id  Total Orders"
is "a key no import named keeps its name; ids unchanged" \
    "$(nudge segment -f csv --original-names --fields id,nosuchkey 'id = 1' | tr -d '\r') $(nudge segment --original-names 'id = 1')" \
"id,nosuchkey
1, 1"
is "contact show gives each attribute's column name after its key" \
    "$(nudge contact show 1 | sed -n '/^default_address_city /p;/^total_spent /p' | tr -s ' ')" \
"default_address_city (Default Address City) Haifa
total_spent (Total Spent) 420.50"
is "and JSON keeps the keys" \
    "$(nudge contact show -f json 1 | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["attrs"]["default_address_city"])')" Haifa

printf 'Email,default address city\nnew@example.com,Akko\n' >later.csv
imp later.csv
is "a later import's spelling replaces the name" \
    "$(sql "SELECT name FROM attr_names WHERE key = 'default_address_city'")" \
    "default address city"
printf 'email,Loyalty Tier (2026)\nnew@example.com,gold\n' >map.csv
imp -m 'Loyalty Tier (2026)=attrs.tier' map.csv
is "--map: the key as given, the name the column's" \
    "$(sql "SELECT name FROM attr_names WHERE key = 'tier'")" \
    "Loyalty Tier (2026)"
