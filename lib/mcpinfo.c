/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "job.h"
#include "jsonrpc.h"
#include "lifecycle.h"
#include "mcpinfo.h"
#include "state.h"
#include "tunnel.h"

#define LOG_LINES	50
#define LOG_MS		10000
#define GUARD_FILE	"/etc/scitex-ssh/config.yaml"	/* as ssh-copy-guard */

static mcptool_fn run_probe, run_client, run_bastion, run_log, run_policy,
    run_guard_line, run_guard_check;

#define NAME_ARG(req) \
	"\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64," \
	"\"pattern\":\"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$\"," \
	"\"description\":\"Tunnel name" req "\"}"
#define READS(open) \
	"\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":" open "}"
#define ROOTS_ARG \
	"\"roots\":{\"type\":\"array\",\"maxItems\":32,\"items\":{" \
	"\"type\":\"string\",\"minLength\":1,\"maxLength\":4096}," \
	"\"description\":\"Directories as dir, dir:ro or dir:rw (read " \
	"only unless :rw), as ssh-copy-guard -r takes them\"}"

const struct mcptool mcpinfo_tools[] = {
	{ "tunnel_probe",
	  "{\"title\":\"Verify a tunnel end to end\","
	  "\"description\":\"Connect through the bastion to the tunnel's "
	  "port and read the SSH banner that must come back from this "
	  "machine, as ssh-tunnel-ls --probe: proof that a collaborator "
	  "can reach it, beyond the supervisor's own state.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  NAME_ARG("") "},\"required\":[\"name\"],"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\"},"
	  "\"verified\":{\"type\":\"boolean\"},"
	  "\"answer\":{\"type\":\"string\",\"description\":\"The banner, or "
	  "why not\"}},\"required\":[\"name\",\"verified\",\"answer\"]},"
	  READS("true") "}",
	  run_probe },
	{ "tunnel_client_config",
	  "{\"title\":\"Client ssh_config of a tunnel\","
	  "\"description\":\"The ssh_config block a collaborator adds to "
	  "reach this machine through the tunnel (ssh NAME), as "
	  "ssh-tunnel-ls -c; all tunnels without name.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  NAME_ARG("; default: every tunnel") "},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"client_config\":{\"type\":\"string\"}},"
	  "\"required\":[\"client_config\"]}," READS("false") "}",
	  run_client },
	{ "tunnel_bastion_config",
	  "{\"title\":\"What the bastion's administrator adds\","
	  "\"description\":\"The authorized_keys line for the tunnel's key "
	  "on the bastion (it may listen on exactly the tunnel's ports, "
	  "nothing else) and the Match User block for the bastion's "
	  "sshd_config that closes what no key option can (unix-socket "
	  "forwarding and the like); both are needed. As ssh-tunnel-up -K, "
	  "for a defined tunnel.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  NAME_ARG("") "},\"required\":[\"name\"],"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\"},"
	  "\"authorized_keys\":{\"type\":\"string\"},"
	  "\"sshd_config\":{\"type\":\"string\"}},"
	  "\"required\":[\"name\",\"authorized_keys\",\"sshd_config\"]},"
	  READS("false") "}",
	  run_bastion },
	{ "tunnel_log",
	  "{\"title\":\"Last log lines of a tunnel\","
	  "\"description\":\"The last lines its supervisor logged (the "
	  "daemon backend's log file, or the journal of its unit): why it "
	  "is not up, when it reconnected.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  NAME_ARG("") ","
	  "\"lines\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,"
	  "\"default\":50}},\"required\":[\"name\"],"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\"},\"source\":{\"type\":\"string\","
	  "\"description\":\"The file or the journal read\"},"
	  "\"log\":{\"type\":\"string\"}},"
	  "\"required\":[\"name\",\"source\",\"log\"]}," READS("false") "}",
	  run_log },
	{ "policy_check",
	  "{\"title\":\"Validate the policy file\","
	  "\"description\":\"Read the whole scitex-ssh policy afresh and say "
	  "whether it is valid, as ssh-allow-check -n; an error names "
	  "file:line:column. A broken file denies everything.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"valid\":{\"type\":\"boolean\"},"
	  "\"path\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],"
	  "\"description\":\"The file read; null when none was found\"},"
	  "\"error\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}},"
	  "\"required\":[\"valid\",\"path\",\"error\"]}," READS("false") "}",
	  run_policy },
	{ "copy_guard_line",
	  "{\"title\":\"authorized_keys options for a copy-only key\","
	  "\"description\":\"The options to put before a public key in a "
	  "server's authorized_keys so that the key can only copy (scp, "
	  "sftp, rsync) within the given directories, through "
	  "ssh-copy-guard.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  ROOTS_ARG "},\"required\":[\"roots\"],"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"options\":{\"type\":\"string\"},"
	  "\"line\":{\"type\":\"string\",\"description\":\"The line, with "
	  "the public key to put in place of KEY\"}},"
	  "\"required\":[\"options\",\"line\"]}," READS("false") "}",
	  run_guard_line },
	{ "copy_guard_check",
	  "{\"title\":\"Would ssh-copy-guard let this through?\","
	  "\"description\":\"Check a command line as a copy-only key's "
	  "client would send it (SSH_ORIGINAL_COMMAND) against "
	  "ssh-copy-guard's rules on this machine, as ssh-copy-guard -n: "
	  "allowed with what it would run, or refused with why. Roots from "
	  "roots, else the copy: section of /etc/scitex-ssh/config.yaml.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"command\":{\"type\":\"string\",\"minLength\":1,"
	  "\"maxLength\":65536,\"description\":\"e.g. scp -t /data/in, "
	  "rsync --server -logDtpre.iLsfxCIvu . /data/in\"}," ROOTS_ARG "},"
	  "\"required\":[\"command\"],\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"allowed\":{\"type\":\"boolean\"},"
	  "\"runs\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],"
	  "\"description\":\"What it would execute\"},"
	  "\"writes\":{\"type\":\"boolean\"},"
	  "\"reason\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}},"
	  "\"required\":[\"allowed\",\"runs\",\"writes\",\"reason\"]},"
	  READS("false") "}",
	  run_guard_check },
};

const size_t mcpinfo_ntools = sizeof(mcpinfo_tools) /
    sizeof(mcpinfo_tools[0]);

/* The text written to fp is whole only if fp closed without error. */
static int
text_closed(FILE *fp, int rc, struct sxerr *e)
{
	if (fclose(fp) == EOF && rc == 0)
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	return rc;
}

/* The row of the tunnel called name; rows->v the caller's to free. */
static int
one_row(const struct mcptool_ctx *m, const char *name, struct lc_rows *rows,
    struct sxerr *e)
{
	if (mcptool_rows(m, name, 0, 1, rows, e) == -1)
		return -1;
	if (rows->n == 0 || !rows->v[0].loaded) {
		free(rows->v);
		return sxerr_set(e, 1, "%s: no such tunnel, or its definition "
		    "does not load", name);
	}
	return 0;
}

/* The probe's ssh runs as a job the session waits for. */
static int
run_probe(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	const char *name = mcptool_str(args, "name", NULL);
	struct lc_rows rows;
	struct job j;
	char buf[512];
	int rc;

	if (one_row(m, name, &rows, e) == -1)
		return -1;
	rc = lc_probe_start(&rows.v[0], &j, buf, sizeof(buf));
	free(rows.v);
	if (rc == 0) {
		snprintf(buf, sizeof(buf), "%.64s: probing", name);
		if (mcptool_job(w, &j, buf, LC_PROBE_UNTIL, e) == -1) {
			job_free(&j);
			return -1;
		}
		rc = lc_probe_end(&j, buf, sizeof(buf));
	}
	return mcptool_result(res, json_pack("{s:s, s:b, s:o}", "name", name,
	    "verified", rc == 0, "answer", jsonrpc_text(buf)), e);
}

static int
run_client(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	char buf[2048], bast[512], *all = NULL;
	struct lc_rows rows;
	size_t i, bi, len;
	FILE *fp;
	int rc = 0;

	if (mcptool_rows(m, mcptool_str(args, "name", NULL), 0, 1, &rows,
	    e) == -1)
		return -1;
	if ((fp = open_memstream(&all, &len)) == NULL) {
		free(rows.v);
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	}
	for (i = 0; i < rows.n && rc == 0; i++) {
		if (!rows.v[i].loaded)
			continue;
		bi = lc_row_bastion(&rows.v[i], bast, sizeof(bast));
		if (tunnel_client_block(rows.v[i].t, bi, buf, sizeof(buf),
		    e) == -1)
			rc = -1;
		else
			fprintf(fp, "%s%s", i ? "\n" : "", buf);
	}
	free(rows.v);
	rc = text_closed(fp, rc, e);
	if (rc == 0)
		rc = mcptool_result(res, json_pack("{s:o}", "client_config",
		    jsonrpc_text(all != NULL ? all : "")), e);
	free(all);
	return rc;
}

static int
run_bastion(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	static char line[20000], block[2048];
	static struct tunnel t;
	const struct backend *b;
	struct config *cf;
	struct lc_req q;

	memset(&q, 0, sizeof(q));
	q.name = mcptool_str(args, "name", NULL);
	if (lc_tunnel(&q, m->config, &cf, &t, &b, e) == -1)
		return -1;
	config_free(cf);
	if (tunnel_authkeys(&t, line, sizeof(line), e) == -1 ||
	    tunnel_sshd_match(&t, block, sizeof(block), e) == -1)
		return -1;
	return mcptool_result(res, json_pack("{s:s, s:o, s:o}", "name", q.name,
	    "authorized_keys", jsonrpc_text(line), "sshd_config",
	    jsonrpc_text(block)), e);
}

/* The last n lines of what buf holds. */
static const char *
tail(const char *buf, int n)
{
	const char *p = buf + strlen(buf);

	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf && n > 0)
		if (*--p == '\n' && --n == 0)
			return p + 1;
	return buf;
}

static int
run_log(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	const char *name = mcptool_str(args, "name", NULL);
	const json_t *l = json_object_get(args, "lines");
	int n = l != NULL ? (int)json_integer_value(l) : LOG_LINES;
	char path[STATE_PATH], unit[128], num[16], src[STATE_PATH + 64];
	const struct lc_row *r;
	struct lc_rows rows;
	const char *user;
	struct job j;
	char *argv[12];
	int k = 0, rc;

	if (one_row(m, name, &rows, e) == -1)
		return -1;
	r = &rows.v[0];
	snprintf(num, sizeof(num), "%d", n);
	if (strcmp(r->ref.b->name, "daemon") == 0) {
		/* The supervisor's stderr, as the daemon backend keeps it. */
		if (state_path(path, sizeof(path), r->ref.pl->state, name,
		    ".log") == -1) {
			free(rows.v);
			return sxerr_set(e, EX_OSERR, "log path too long");
		}
		argv[k++] = "tail";
		argv[k++] = "-n";
		argv[k++] = num;
		argv[k++] = "--";
		argv[k++] = path;
		strlcpy(src, path, sizeof(src));
	} else {
		if (r->ref.port != 0)
			snprintf(unit, sizeof(unit), "autossh-tunnel-%d.service",
			    r->ref.port);
		else
			snprintf(unit, sizeof(unit), "ssh-tunnel@%s.service",
			    name);
		user = strcmp(r->ref.b->name, "systemd") == 0 ? NULL :
		    "--user";
		argv[k++] = "journalctl";
		if (user != NULL)
			argv[k++] = (char *)user;
		argv[k++] = "--no-pager";
		argv[k++] = "-o";
		argv[k++] = "short-iso";
		argv[k++] = "-n";
		argv[k++] = num;
		argv[k++] = "-u";
		argv[k++] = unit;
		snprintf(src, sizeof(src), "journalctl%s -u %s",
		    user != NULL ? " --user" : "", unit);
	}
	argv[k] = NULL;
	free(rows.v);
	/* journalctl may take seconds on a big journal: the session waits. */
	if (job_start(&j, argv, LOG_MS, 1 << 20, e) == -1)
		return -1;
	if (mcptool_job(w, &j, src, NULL, e) == -1) {
		job_free(&j);
		return -1;
	}
	if (job_exit_code(&j) != 0)
		rc = sxerr_set(e, 1, "%s: %s", src, j.err.buf != NULL ?
		    j.err.buf : "failed");
	else
		rc = mcptool_result(res, json_pack("{s:s, s:s, s:o}", "name",
		    name, "source", src, "log", jsonrpc_text(tail(j.out.buf !=
		    NULL ? j.out.buf : "", n))), e);
	job_free(&j);
	return rc;
}

static int
run_policy(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	struct config *cf;
	struct policy *p;
	struct sxerr pe;
	int valid;

	if ((valid = mcptool_policy(m, &cf, &p, &pe) == 0)) {
		*res = json_pack("{s:b, s:o, s:n}", "valid", p->path[0] != '\0',
		    "path", p->path[0] != '\0' ? jsonrpc_text(p->path) :
		    json_null(), "error");
		if (*res != NULL && p->path[0] == '\0')
			json_object_set_new(*res, "error", jsonrpc_text(
			    "no config file: every question is denied"));
		policy_free(p);
		config_free(cf);
	} else
		*res = json_pack("{s:b, s:n, s:o}", "valid", 0, "path",
		    "error", jsonrpc_text(pe.msg));
	return mcptool_result(res, *res, e);
}

/*
 * A root for an authorized_keys command="...": an absolute path of
 * characters that need no quoting there or in a shell, and :ro or :rw.
 */
static int
line_root(const char *r, struct sxerr *e)
{
	const char *c = strrchr(r, ':');
	size_t n = c != NULL && (strcmp(c, ":ro") == 0 ||
	    strcmp(c, ":rw") == 0) ? (size_t)(c - r) : strlen(r);

	if (r[0] != '/' || strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
	    "nopqrstuvwxyz0123456789._/+@%,=-") != n || strstr(r, "/../") ||
	    (n >= 3 && strcmp(r + n - 3, "/..") == 0))
		return sxerr_set(e, EX_DATAERR, "roots: %.100s: want an "
		    "absolute path of A-Z a-z 0-9 ._/+@%%,=- (no ..), then "
		    "nothing, :ro or :rw", r);
	return 0;
}

static int
run_guard_line(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	json_t *roots = json_object_get(args, "roots"), *v;
	char *opts = NULL, *line = NULL;
	size_t i, len;
	FILE *fp;
	int rc = 0;

	if (json_array_size(roots) == 0)
		return sxerr_set(e, EX_DATAERR, "roots: at least one");
	if ((fp = open_memstream(&opts, &len)) == NULL)
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	fputs("restrict,command=\"ssh-copy-guard", fp);
	json_array_foreach(roots, i, v) {
		if (rc == 0 && line_root(json_string_value(v), e) == -1)
			rc = -1;
		fprintf(fp, " -r %s", json_string_value(v));
	}
	fputc('"', fp);
	rc = text_closed(fp, rc, e);
	if (rc == 0 && asprintf(&line, "%s KEY", opts) == -1)
		rc = sxerr_set(e, EX_OSERR, "out of memory");
	if (rc == 0)
		rc = mcptool_result(res, json_pack("{s:s, s:s}", "options",
		    opts, "line", line), e);
	free(opts);
	free(line);
	return rc;
}

static int
run_guard_check(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	static struct guard_cmd cmd;
	const char *oc = mcptool_str(args, "command", NULL);
	json_t *roots = json_object_get(args, "roots"), *v;
	struct config *c = NULL;
	struct guard g;
	struct sxerr ge;
	char *runs = NULL;
	size_t i, len;
	int rc;
	FILE *fp;

	guard_init(&g);
	json_array_foreach(roots, i, v)
		if (guard_add_root(&g, json_string_value(v), e) == -1)
			return -1;
	/* The guard's own file only, as ssh-copy-guard reads it. */
	if (g.nroot == 0 && access(GUARD_FILE, F_OK) == 0 &&
	    config_load(GUARD_FILE, &c, e) == -1)
		return -1;
	if (guard_config(&g, c, g.nroot > 0, e) == -1) {
		config_free(c);
		return -1;
	}
	config_free(c);
	if (g.nroot == 0)
		return sxerr_set(e, EX_CONFIG, "no roots: give roots, or a "
		    "copy: section in /etc/scitex-ssh/config.yaml");
	if (guard_parse(&g, oc, strlen(oc), &cmd, &ge) == -1)
		return mcptool_result(res, json_pack("{s:b, s:n, s:b, s:o}",
		    "allowed", 0, "runs", "writes", 0, "reason",
		    jsonrpc_text(ge.msg)), e);
	if ((fp = open_memstream(&runs, &len)) == NULL)
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	fputs(cmd.prog, fp);
	for (i = 1; i < cmd.argc; i++)
		fprintf(fp, " %s", cmd.argv[i]);
	if (text_closed(fp, 0, e) == -1) {
		free(runs);
		return -1;
	}
	rc = mcptool_result(res, json_pack("{s:b, s:o, s:b, s:n}", "allowed",
	    1, "runs", jsonrpc_text(runs), "writes", cmd.writes, "reason"), e);
	free(runs);
	return rc;
}
