/*
 * pki_opts: one table of options says which subcommands take each; parsing
 * stores values, then a per-command check enforces required and exclusive
 * options. Accepts "--opt value" and "--opt=value"; "--" ends options.
 */
#include "pki/pki_opts.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_err.h"
#include "pki/pki_time.h"

#define PKI_DAYS_MAX 36500	/* a hundred years is more than anyone needs */
#define PKI_NAME_MAX 64		/* X.520 upper bound for CN and O */

enum opt_id {
	OPT_CERT, OPT_KEY, OPT_CN, OPT_ORG, OPT_KEY_TYPE, OPT_DAYS, OPT_START,
	OPT_ISSUER_CERT, OPT_ISSUER_KEY, OPT_CA_CERT, OPT_CA_KEY, OPT_CRL,
	OPT_DNS, OPT_IP, OPT_SELF_SIGNED, OPT_CHAIN, OPT_FORCE,
};

#define ON(c) (1u << PKI_CMD_##c)

static const struct opt_def {
	const char *name;
	enum opt_id id;
	unsigned cmds;
	bool has_value;
} opt_defs[] = {
	{ "cert", OPT_CERT, ON(CA) | ON(ISSUE), true },
	{ "key", OPT_KEY, ON(CA) | ON(ISSUE), true },
	{ "cn", OPT_CN, ON(CA) | ON(ISSUE), true },
	{ "org", OPT_ORG, ON(CA) | ON(ISSUE), true },
	{ "key-type", OPT_KEY_TYPE, ON(CA) | ON(ISSUE), true },
	{ "days", OPT_DAYS, ON(CA) | ON(ISSUE) | ON(REVOKE) | ON(CRL), true },
	{ "start", OPT_START, ON(CA) | ON(ISSUE), true },
	{ "issuer-cert", OPT_ISSUER_CERT, ON(CA), true },
	{ "issuer-key", OPT_ISSUER_KEY, ON(CA), true },
	{ "ca-cert", OPT_CA_CERT, ON(ISSUE) | ON(REVOKE) | ON(CRL), true },
	{ "ca-key", OPT_CA_KEY, ON(ISSUE) | ON(REVOKE) | ON(CRL), true },
	{ "crl", OPT_CRL, ON(REVOKE) | ON(CRL), true },
	{ "dns", OPT_DNS, ON(ISSUE), true },
	{ "ip", OPT_IP, ON(ISSUE), true },
	{ "self-signed", OPT_SELF_SIGNED, ON(ISSUE), false },
	{ "chain", OPT_CHAIN, ON(ISSUE), false },
	{ "force", OPT_FORCE, ON(CA) | ON(ISSUE), false },
};

static const char *const cmd_names[] = {
	[PKI_CMD_CA] = "ca",
	[PKI_CMD_ISSUE] = "issue",
	[PKI_CMD_INSPECT] = "inspect",
	[PKI_CMD_REVOKE] = "revoke",
	[PKI_CMD_CRL] = "crl",
};

int pki_cmd_parse(const char *name, enum pki_cmd *out)
{
	for (size_t i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++) {
		if (strcmp(name, cmd_names[i]) == 0) {
			*out = (enum pki_cmd)i;
			return 0;
		}
	}
	return -1;
}

bool pki_opts_dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;
	const char *p = name;

	if (len == 0 || len > 253)
		return false;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	for (; *p; p++) {
		char c = *p;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool ip_ok(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int parse_days(const char *s, long *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > PKI_DAYS_MAX)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = v;
	return 0;
}

/* Points at the slot a single-valued option is stored in. */
static const char **opt_slot(struct pki_opts *o, enum opt_id id)
{
	switch (id) {
	case OPT_CERT: return &o->cert;
	case OPT_KEY: return &o->key;
	case OPT_CN: return &o->cn;
	case OPT_ORG: return &o->org;
	case OPT_ISSUER_CERT: return &o->issuer_cert;
	case OPT_ISSUER_KEY: return &o->issuer_key;
	case OPT_CA_CERT: return &o->ca_cert;
	case OPT_CA_KEY: return &o->ca_key;
	case OPT_CRL: return &o->crl;
	default: return NULL;
	}
}

/* What parsing gathers besides the struct: options that need a second look
 * once every argument is known. */
struct parse_state {
	const char *cmd;
	const char *kind;
	const char *start;
	const char *key_type;
	const char *days;
};

static int store_opt(struct pki_opts *o, struct parse_state *ps,
		     const struct opt_def *d, const char *value, char *err,
		     size_t errlen)
{
	const char **slot;
	const char **once = NULL;

	switch (d->id) {
	case OPT_SELF_SIGNED: o->self_signed = true; return 0;
	case OPT_CHAIN: o->chain = true; return 0;
	case OPT_FORCE: o->force = true; return 0;
	case OPT_DNS:
		if (!pki_opts_dns_name_ok(value)) {
			pki_err_set(err, errlen, "--dns %s: not a DNS name", value);
			return -1;
		}
		o->dns[o->n_dns++] = value;
		return 0;
	case OPT_IP:
		if (!ip_ok(value)) {
			pki_err_set(err, errlen, "--ip %s: not an IPv4 or IPv6 address",
				    value);
			return -1;
		}
		o->ips[o->n_ips++] = value;
		return 0;
	case OPT_START: once = &ps->start; break;
	case OPT_KEY_TYPE: once = &ps->key_type; break;
	case OPT_DAYS: once = &ps->days; break;
	default: break;
	}
	slot = once ? once : opt_slot(o, d->id);
	if (*slot) {
		pki_err_set(err, errlen, "--%s given twice", d->name);
		return -1;
	}
	*slot = value;
	return 0;
}

static const struct opt_def *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++)
		if (strlen(opt_defs[i].name) == len &&
		    strncmp(opt_defs[i].name, name, len) == 0)
			return &opt_defs[i];
	return NULL;
}

/* Handles argv[*i], an argument starting with "--"; may consume the next. */
static int parse_long_opt(struct pki_opts *o, struct parse_state *ps, int argc,
			  char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt_def *d = find_opt(arg, nlen);
	const char *value = NULL;

	if (!d || !(d->cmds & (1u << o->cmd))) {
		pki_err_set(err, errlen, "%s: unknown option --%.*s", ps->cmd,
			    (int)nlen, arg);
		return -1;
	}
	if (!d->has_value) {
		if (eq) {
			pki_err_set(err, errlen, "--%s takes no value", d->name);
			return -1;
		}
		return store_opt(o, ps, d, NULL, err, errlen);
	}
	if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
		/* A value may start with one dash ("--start -30d"), never two:
		 * "--cn --key k" is a forgotten value, not a CN. */
		value = argv[++*i];
	}
	if (!value || !*value) {
		pki_err_set(err, errlen, "--%s needs a value", d->name);
		return -1;
	}
	return store_opt(o, ps, d, value, err, errlen);
}

static void add_positional(struct pki_opts *o, struct parse_state *ps,
			  const char *arg)
{
	if (o->cmd == PKI_CMD_ISSUE && !ps->kind)
		ps->kind = arg;
	else
		o->files[o->n_files++] = arg;
}

static int require(const char *value, const char *name, const char *cmd,
		   char *err, size_t errlen)
{
	if (value)
		return 0;
	pki_err_set(err, errlen, "%s: --%s is required", cmd, name);
	return -1;
}

static int check_name(const char *value, const char *opt, char *err,
		      size_t errlen)
{
	if (value && strlen(value) > PKI_NAME_MAX) {
		pki_err_set(err, errlen, "--%s: longer than %d characters", opt,
			    PKI_NAME_MAX);
		return -1;
	}
	return 0;
}

static int check_ca(struct pki_opts *o, char *err, size_t errlen)
{
	if (require(o->cert, "cert", "ca", err, errlen) ||
	    require(o->key, "key", "ca", err, errlen) ||
	    require(o->cn, "cn", "ca", err, errlen))
		return -1;
	if (!o->issuer_cert != !o->issuer_key) {
		pki_err_set(err, errlen, "ca: --issuer-cert and --issuer-key go together");
		return -1;
	}
	return 0;
}

static int check_issue(struct pki_opts *o, const char *kind, char *err,
		       size_t errlen)
{
	if (!kind) {
		pki_err_set(err, errlen, "issue: say client or server");
		return -1;
	}
	if (strcmp(kind, "client") == 0) {
		o->leaf = PKI_LEAF_CLIENT;
	} else if (strcmp(kind, "server") == 0) {
		o->leaf = PKI_LEAF_SERVER;
	} else {
		pki_err_set(err, errlen, "issue: %s: expected client or server", kind);
		return -1;
	}
	if (require(o->cert, "cert", "issue", err, errlen) ||
	    require(o->key, "key", "issue", err, errlen) ||
	    require(o->cn, "cn", "issue", err, errlen))
		return -1;
	/* A server certificate without SANs is useless to modern clients; the
	 * CN stands in, so it must be usable as a DNS name. */
	if (o->leaf == PKI_LEAF_SERVER && !o->n_dns && !o->n_ips &&
	    !pki_opts_dns_name_ok(o->cn)) {
		pki_err_set(err, errlen,
			    "issue: --cn %s is not a DNS name; give --dns or --ip",
			    o->cn);
		return -1;
	}
	if (o->self_signed) {
		if (o->ca_cert || o->ca_key) {
			pki_err_set(err, errlen,
				    "issue: --self-signed excludes --ca-cert and --ca-key");
			return -1;
		}
		if (o->chain) {
			pki_err_set(err, errlen, "issue: --chain needs --ca-cert");
			return -1;
		}
		return 0;
	}
	if (!o->ca_cert || !o->ca_key) {
		pki_err_set(err, errlen,
			    "issue: give --ca-cert and --ca-key, or --self-signed");
		return -1;
	}
	return 0;
}

static int check_cmd(struct pki_opts *o, struct parse_state *ps, char *err,
		     size_t errlen)
{
	size_t max_files = 0;

	switch (o->cmd) {
	case PKI_CMD_CA:
		if (check_ca(o, err, errlen) < 0)
			return -1;
		break;
	case PKI_CMD_ISSUE:
		if (check_issue(o, ps->kind, err, errlen) < 0)
			return -1;
		break;
	case PKI_CMD_INSPECT:
		if (o->n_files != 1) {
			pki_err_set(err, errlen, "inspect: give exactly one FILE");
			return -1;
		}
		max_files = 1;
		break;
	case PKI_CMD_REVOKE:
	case PKI_CMD_CRL:
		if (require(o->ca_cert, "ca-cert", ps->cmd, err, errlen) ||
		    require(o->ca_key, "ca-key", ps->cmd, err, errlen) ||
		    require(o->crl, "crl", ps->cmd, err, errlen))
			return -1;
		if (o->cmd == PKI_CMD_REVOKE && o->n_files == 0) {
			pki_err_set(err, errlen, "revoke: give at least one CERTFILE");
			return -1;
		}
		max_files = o->cmd == PKI_CMD_REVOKE ? o->n_files : 0;
		break;
	}
	if (o->n_files > max_files) {
		pki_err_set(err, errlen, "%s: unexpected argument %s", ps->cmd,
			    o->files[max_files]);
		return -1;
	}
	if (check_name(o->cn, "cn", err, errlen) < 0 ||
	    check_name(o->org, "org", err, errlen) < 0)
		return -1;
	if (o->cert && o->key && strcmp(o->cert, o->key) == 0) {
		pki_err_set(err, errlen, "%s: --cert and --key name the same file",
			    ps->cmd);
		return -1;
	}
	return 0;
}

static int resolve_values(struct pki_opts *o, struct parse_state *ps,
			  time_t now, char *err, size_t errlen)
{
	o->key_type = PKI_KEY_ECDSA_P256;
	if (ps->key_type && pki_key_type_parse(ps->key_type, &o->key_type) < 0) {
		pki_err_set(err, errlen,
			    "--key-type %s: expected ecdsa, ed25519, rsa2048 or rsa3072",
			    ps->key_type);
		return -1;
	}
	switch (o->cmd) {
	case PKI_CMD_CA: o->days = 3650; break;
	case PKI_CMD_ISSUE: o->days = 365; break;
	default: o->days = 30; break;
	}
	if (ps->days && parse_days(ps->days, &o->days) < 0) {
		pki_err_set(err, errlen, "--days %s: expected a whole number from 1 to %d",
			    ps->days, PKI_DAYS_MAX);
		return -1;
	}
	o->not_before = now;
	if (ps->start && pki_time_parse_when(ps->start, now, &o->not_before) < 0) {
		pki_err_set(err, errlen,
			    "--start %s: expected now, [+-]N[smhd], YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
			    ps->start);
		return -1;
	}
	return 0;
}

enum pki_opts_result pki_opts_parse(struct pki_opts *o, int argc, char **argv,
				    time_t now, char *err, size_t errlen)
{
	struct parse_state ps = { 0 };
	bool opts_done = false;
	size_t cap = argc > 0 ? (size_t)argc : 1;

	memset(o, 0, sizeof *o);
	if (argc < 1 || pki_cmd_parse(argv[0], &o->cmd) < 0) {
		pki_err_set(err, errlen, "unknown command %s", argc < 1 ? "" : argv[0]);
		return PKI_OPTS_USAGE;
	}
	ps.cmd = argv[0];
	o->dns = calloc(cap, sizeof *o->dns);
	o->ips = calloc(cap, sizeof *o->ips);
	o->files = calloc(cap, sizeof *o->files);
	if (!o->dns || !o->ips || !o->files) {
		pki_err_set(err, errlen, "out of memory");
		goto usage;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			pki_opts_free(o);
			return PKI_OPTS_HELP;
		} else if (!opts_done && strncmp(a, "--", 2) == 0) {
			if (parse_long_opt(o, &ps, argc, argv, &i, err, errlen) < 0)
				goto usage;
		} else if (!opts_done && a[0] == '-' && a[1] != '\0') {
			pki_err_set(err, errlen, "%s: unknown option %s", ps.cmd, a);
			goto usage;
		} else {
			add_positional(o, &ps, a);
		}
	}
	if (resolve_values(o, &ps, now, err, errlen) < 0 ||
	    check_cmd(o, &ps, err, errlen) < 0)
		goto usage;
	return PKI_OPTS_OK;
usage:
	pki_opts_free(o);
	return PKI_OPTS_USAGE;
}

void pki_opts_free(struct pki_opts *o)
{
	free(o->dns);
	free(o->ips);
	free(o->files);
	o->dns = o->ips = o->files = NULL;
	o->n_dns = o->n_ips = o->n_files = 0;
}
