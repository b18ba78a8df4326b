#!/usr/bin/perl
# contacts.pl SISIMAI_JSON: a CSV of one contact for each recipient that
# Sisimai found, for import-list.
use strict;
use warnings;
use JSON::PP;

local $/;
open my $f, '<', $ARGV[0] or die "$ARGV[0]: $!";
my $d = decode_json(<$f>);
my %seen;
print "email\n";
for my $r (@$d) {
	my $a = $r->{recipient};
	next if $a eq '' || $seen{lc $a}++;
	$a =~ s/"/""/g;
	print "\"$a\"\n";
}
