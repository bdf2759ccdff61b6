/* SPDX-License-Identifier: AGPL-3.0-only */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "sshopt.h"

static void
ok(const char *s)
{
	struct sxerr e;

	if (sshopt_check(s, &e) != 0)
		fail_msg("\"%s\" refused: %s", s, e.msg);
}

/* Refused, with a message naming the option (want), and no raw control
 * character in the message. */
static void
no(const char *s, const char *name)
{
	struct sxerr e;
	const char *m;

	if (sshopt_check(s, &e) != -1)
		fail_msg("\"%s\" accepted", s);
	assert_int_equal(e.ex, EX_DATAERR);
	if (name != NULL && strncmp(e.msg, name, strlen(name)) != 0)
		fail_msg("\"%s\": message \"%s\" does not start with %s", s,
		    e.msg, name);
	for (m = e.msg; *m != '\0'; m++)
		assert_true((unsigned char)*m >= 0x20 &&
		    (unsigned char)*m < 0x7f);
}

/* What the shell would act on, in every option that takes text. */
static const char *const hostile[] = {
	"$(id>/tmp/x)", "a$(id)", "`id`", "a;id", "a|id", "a&id", "a&&id",
	"a>b", "a<b", "a b", "a\tb", "a\nb", "a\rb", "a'b", "a\"b", "a\\b",
	"a(b", "a)b", "a{b}", "a*", "a?", "a[b]", "a!b", "a#b", "%h", "a%d",
	"${HOME}", "$HOME", "~root", "a\x7f", "h\xc3\xa9", "-oProxyCommand=x",
	"a=b",
};

static void
test_hostile_everywhere(void **state)
{
	static const char *const text[] = { "HostName", "HostKeyAlias",
	    "BindAddress", "User", "ProxyJump", "IdentityFile",
	    "UserKnownHostsFile", "CertificateFile", "IdentityAgent",
	    "GlobalKnownHostsFile", "Ciphers", "KexAlgorithms", "MACs",
	    "PreferredAuthentications", "BindInterface", "RekeyLimit",
	    "StrictHostKeyChecking", "Port" };
	char buf[256];
	size_t i, j;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		for (j = 0; j < sizeof(hostile) / sizeof(hostile[0]); j++) {
			snprintf(buf, sizeof(buf), "%s=%s", text[i], hostile[j]);
			no(buf, text[i]);
			/* also after a good start ('~' inside a path is
			 * only a character) */
			if (hostile[j][0] == '~')
				continue;
			snprintf(buf, sizeof(buf), "%s=/h%s", text[i],
			    hostile[j]);
			no(buf, text[i]);
		}
}

static void
test_keywords(void **state)
{
	ok("hostname=gw.example.org");
	ok("HOSTNAME=gw.example.org");
	no("ProxyCommand=id", "ProxyCommand: ssh option not allowed");
	no("LocalCommand=id", "LocalCommand");
	no("PermitLocalCommand=yes", "PermitLocalCommand");
	no("KnownHostsCommand=x", "KnownHostsCommand");
	no("Match=all", "Match");
	no("PKCS11Provider=/x.so", "PKCS11Provider");
	no("SecurityKeyProvider=/x.so", "SecurityKeyProvider");
	no("ControlMaster=auto", "ControlMaster");
	no("ControlPath=/tmp/x", "ControlPath");
	no("LogLevel=QUIET", "LogLevel");
	no("ExitOnForwardFailure=no", "ExitOnForwardFailure");
	no("RemoteForward=1", "RemoteForward");
	no("Include=/x", "Include");
	no("SetEnv=A=b", "SetEnv");
	no("RemoteCommand=id", "RemoteCommand");
	no("Tunnel=yes", "Tunnel");
	no("User", NULL);
	no("=x", NULL);
	no("User=", NULL);
	no("", NULL);
	no("Us er=x", NULL);
	no("User\n=x", NULL);
	no("-oUser=x", NULL);
	no(NULL, NULL);
}

static void
test_host(void **state)
{
	ok("HostName=127.0.0.1");
	ok("HostName=gw.example.org.");
	ok("HostName=::1");
	ok("HostKeyAlias=labbox");
	ok("BindAddress=10.0.0.1");
	no("HostName=127.0.0.1$(id>/tmp/pwned)", "HostName: ");
	no("HostName=127.1", "HostName: ");
	no("HostName=0.0.0.0", "HostName: ");
	no("HostName=::ffff:0.0.0.0", "HostName: ");
	no("HostName=::", "HostName: ");
	no("HostName=[::1]", "HostName: ");
	no("HostName=a..b", "HostName: ");
	no("HostName=~", "HostName: ");
	no("HostName=u@h", "HostName: ");
}

static void
test_numbers(void **state)
{
	ok("Port=1");
	ok("Port=65535");
	ok("ConnectTimeout=10");
	ok("ServerAliveInterval=5");
	ok("ServerAliveCountMax=3");
	ok("ConnectionAttempts=2");
	ok("RequiredRSASize=2048");
	ok("StreamLocalBindMask=0177");
	ok("StreamLocalBindMask=0");
	no("Port=0", "Port: 0: want a number");
	no("Port=65536", "Port");
	no("Port=-1", "Port");
	no("Port=+22", "Port");
	no("Port=22a", "Port");
	no("Port=0x16", "Port");
	no("Port= 22", "Port");
	no("Port=99999999999999999999", "Port");
	no("ConnectTimeout=0", "ConnectTimeout");
	no("ServerAliveInterval=0", "ServerAliveInterval");
	no("RequiredRSASize=512", "RequiredRSASize");
	no("StreamLocalBindMask=0778", "StreamLocalBindMask");
	no("StreamLocalBindMask=1000", "StreamLocalBindMask");
}

static void
test_choices(void **state)
{
	ok("StrictHostKeyChecking=yes");
	ok("StrictHostKeyChecking=accept-new");
	ok("StrictHostKeyChecking=off");
	ok("stricthostkeychecking=NO");
	ok("AddressFamily=inet6");
	ok("PubkeyAuthentication=host-bound");
	ok("IPQoS=lowdelay");
	ok("Compression=yes");
	no("StrictHostKeyChecking=ask", "StrictHostKeyChecking: ask: want one "
	    "of yes|no|accept-new|off");
	no("StrictHostKeyChecking=yes no", "StrictHostKeyChecking");
	no("StrictHostKeyChecking=yesno", "StrictHostKeyChecking");
	no("Compression=1", "Compression");
	no("UpdateHostKeys=ask", "UpdateHostKeys");
	no("AddKeysToAgent=confirm", "AddKeysToAgent");
	no("IPQoS=lowdelay throughput", "IPQoS");
}

static void
test_paths(void **state)
{
	ok("UserKnownHostsFile=~/.ssh/known_hosts");
	ok("UserKnownHostsFile=/tmp/bats-run-1/test/2/known_hosts");
	ok("UserKnownHostsFile=none");
	ok("IdentityFile=/home/a/.ssh/id_ed25519");
	ok("IdentityFile=~/.ssh/id+x-1.key");
	ok("IdentityAgent=SSH_AUTH_SOCK");
	ok("IdentityAgent=none");
	ok("CertificateFile=/a/../b-cert.pub");
	no("IdentityFile=none", "IdentityFile");
	no("UserKnownHostsFile=known_hosts", "UserKnownHostsFile: "
	    "known_hosts: want /... or ~/...");
	no("UserKnownHostsFile=~user/kh", "UserKnownHostsFile");
	no("UserKnownHostsFile=/a /b", "UserKnownHostsFile");
	no("UserKnownHostsFile=/a/%d/kh", "UserKnownHostsFile");
	no("UserKnownHostsFile=/a:b", "UserKnownHostsFile");
	no("IdentityAgent=$SSH_AUTH_SOCK", "IdentityAgent");
	assert_int_equal(sshopt_path("~/.ssh/id", NULL), 0);
	assert_int_equal(sshopt_path("/k", NULL), 0);
}

static void
test_users(void **state)
{
	ok("User=tunnel");
	ok("User=a.b_c-d");
	no("User=$(id)", "User: ");
	no("User=-x", "User");
	no("User=a@b", "User");
	no("User=%u", "User");
	no("User=abcdefghijklmnopqrstuvwxyz0123456", "User");
}

static void
test_jump(void **state)
{
	ok("ProxyJump=u@j:22");
	ok("ProxyJump=j");
	ok("ProxyJump=none");
	ok("ProxyJump=a@j1,j2:2222,[::1]:22");
	no("ProxyJump=x;id", "ProxyJump: ");
	no("ProxyJump=x,", "ProxyJump");
	no("ProxyJump=,x", "ProxyJump");
	no("ProxyJump=ssh://x", "ProxyJump");
	no("ProxyJump=$(id)@x", "ProxyJump");
	no("ProxyJump=u@0.0.0.0", "ProxyJump");
	no("ProxyJump=x:0", "ProxyJump");
	no("ProxyJump=a,b,c,d,e,f,g,h,i", "ProxyJump");
}

static void
test_algs(void **state)
{
	ok("Ciphers=aes128-ctr,chacha20-poly1305@openssh.com");
	ok("KexAlgorithms=-diffie-hellman-group1-sha1");
	ok("HostKeyAlgorithms=+ssh-rsa");
	ok("PubkeyAcceptedAlgorithms=^ssh-ed25519");
	ok("PreferredAuthentications=publickey");
	ok("RekeyLimit=1G");
	ok("RekeyLimit=default");
	ok("BindInterface=eth0");
	no("Ciphers=aes128-ctr chacha20", "Ciphers");
	no("Ciphers=ssh-*", "Ciphers");
	no("RekeyLimit=1G 1h", "RekeyLimit");
	no("RekeyLimit=1T", "RekeyLimit");
	no("RekeyLimit=G", "RekeyLimit");
	no("BindInterface=-x", "BindInterface");
	no("BindInterface=abcdefghijklmnop", "BindInterface");
}

/* The table is sorted, case-insensitively unique, and every entry has a
 * grammar. */
static void
test_table(void **state)
{
	const struct sshopt *t;
	size_t n, i;

	t = sshopt_table(&n);
	assert_true(n > 30);
	for (i = 1; i < n; i++)
		if (strcmp(t[i - 1].name, t[i].name) >= 0)
			fail_msg("%s before %s", t[i - 1].name, t[i].name);
	for (i = 0; i < n; i++)
		if (t[i].type == SO_CHOICE && t[i].words == NULL)
			fail_msg("%s: a choice without words", t[i].name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_everywhere),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_choices),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_jump),
		cmocka_unit_test(test_algs),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
