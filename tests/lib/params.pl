#!/usr/bin/perl
# params.pl MAX FILE...: the functions defined in style(9) layout (name at
# column 0, "{" on the next line) that take more than MAX parameters, one
# line each; exits 1 when there is one. Comments are dropped first.
use strict; use warnings;
my $max = shift @ARGV;
my $bad = 0;
for my $f (@ARGV) {
	open my $fh, '<', $f or die "$f: $!";
	local $/; my $s = <$fh>; close $fh;
	$s =~ s{/\*.*?\*/}{}gs;
	while ($s =~ /^([A-Za-z_]\w*)\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)\s*\n\{/mg) {
		my ($name, $p) = ($1, $2);
		my $d = 0; my $n = ($p =~ /^\s*void\s*$/) ? 0 : 1;
		for my $c (split //, $p) { $d++ if $c eq '('; $d-- if $c eq ')'; $n++ if $c eq ',' && $d == 0; }
		if ($n > $max) { print "$f: $name: $n parameters\n"; $bad++; }
	}
}
exit($bad ? 1 : 0);
