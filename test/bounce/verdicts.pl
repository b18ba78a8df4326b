#!/usr/bin/perl
# verdicts.pl SISIMAI_JSON SUPPRESSED KNOWN: compares the addresses a store
# suppressed (SUPPRESSED: one lower-case address a line) with Sisimai's own
# verdicts on the same mail (its dump), over the addresses the store knows
# (KNOWN).  Prints "hard H SH sender S SS": H recipients Sisimai calls hard
# bounces (userunknown, hostunknown, hasmoved, notaccept, with softbounce
# 0), SH of them suppressed; S recipients that only sender-side reasons
# name, SS of them suppressed.  The reference is Sisimai's reading, never
# nudge's.
use strict;
use warnings;
use JSON::PP;

my ($json, $supfile, $knownfile) = @ARGV;
local $/;
open my $f, '<', $json or die "$json: $!";
my $d = decode_json(<$f>);
$/ = "\n";
my %hard = map { ($_ => 1) } qw(userunknown hostunknown hasmoved notaccept);
my %sender = map { ($_ => 1) } qw(authfailure badreputation blocked
    contenterror mesgtoobig norelaying notcompliantrfc policyviolation
    rejected requireptr securityerror spamdetected speeding syntaxerror
    toomanyconn virusdetected);
my (%H, %S, %other);
for my $r (@$d) {
	my $a = lc $r->{recipient};
	next if $a eq '';
	if ($hard{$r->{reason}} && $r->{softbounce} == 0) { $H{$a} = 1 }
	elsif ($sender{$r->{reason}}) { $S{$a} = 1 }
	else { $other{$a} = 1 }
}
open my $s, '<', $supfile or die "$supfile: $!";
my %sup = map { chomp; ($_ => 1) } <$s>;
open my $k, '<', $knownfile or die "$knownfile: $!";
my %known = map { chomp; ($_ => 1) } <$k>;
my @h = grep { $known{$_} } keys %H;
my @s = grep { $known{$_} && !$H{$_} && !$other{$_} } keys %S;
printf "hard %d %d sender %d %d\n", scalar @h, scalar(grep { $sup{$_} } @h),
    scalar @s, scalar(grep { $sup{$_} } @s);
