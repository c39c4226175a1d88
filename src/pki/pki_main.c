/*
 * pki_main: `pullgate pki` — dispatch to the subcommands, usage text, and
 * the one place where the module's errors are printed and turned into exit
 * codes (0 ok, 1 failure, 2 usage).
 */
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pki/pki_cmds.h"
#include "pki/pki_err.h"
#include "pki/pki_opts.h"

/* One synopsis per command, indexed by enum pki_cmd: a usage error shows
 * only the command's own, --help shows them all. */
static const char *const pki_synopsis[] = {
	[PKI_CMD_CA] =
	("  pullgate pki ca --cert FILE --key FILE --cn NAME [--org ORG]\n"
	 "          [--key-type ecdsa|ed25519|rsa2048|rsa3072] [--days N] [--start WHEN]\n"
	 "          [--issuer-cert FILE --issuer-key FILE] [--force]\n"),
	[PKI_CMD_ISSUE] =
	("  pullgate pki issue client|server --cert FILE --key FILE --cn NAME\n"
	 "          (--ca-cert FILE --ca-key FILE | --self-signed)\n"
	 "          [--dns NAME]... [--ip ADDR]... [--org ORG] [--key-type TYPE]\n"
	 "          [--days N] [--start WHEN] [--chain] [--force]\n"),
	[PKI_CMD_INSPECT] =
	"  pullgate pki inspect FILE\n",
	[PKI_CMD_REVOKE] =
	("  pullgate pki revoke --ca-cert FILE --ca-key FILE --crl FILE [--days N]\n"
	 "          CERTFILE...\n"),
	[PKI_CMD_CRL] =
	"  pullgate pki crl --ca-cert FILE --ca-key FILE --crl FILE [--days N]\n",
};

static const char *const pki_summary[] = {
	[PKI_CMD_CA] = "make a CA: self-signed, or an intermediate signed by "
		       "--issuer-* (default 3650 days)",
	[PKI_CMD_ISSUE] = "issue a client or server certificate (default 365 days)",
	[PKI_CMD_INSPECT] = "print a certificate or CRL: subject, validity, SANs, pins",
	[PKI_CMD_REVOKE] = "add certificates to the CA's CRL (next update in N days, "
			   "default 30)",
	[PKI_CMD_CRL] = "write or refresh the CA's CRL",
};

static void pki_help(FILE *f)
{
	fputs("usage: pullgate pki COMMAND [OPTIONS]\n\n", f);
	for (size_t i = 0; i < sizeof pki_synopsis / sizeof pki_synopsis[0]; i++)
		fprintf(f, "%s      %s\n", pki_synopsis[i], pki_summary[i]);
	fputs("\nWHEN: now, +10d, -30d, -2h, +90m, -45s, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n"
	      "Keys are written as unencrypted PKCS#8 PEM, mode 0600. Existing files\n"
	      "are never overwritten without --force. See docs/pki.md.\n", f);
}

/* cmd may be NULL or unknown: then the list of commands is shown. */
static int pki_usage_error(const char *msg, const char *cmd)
{
	enum pki_cmd c;

	if (msg && *msg)
		fprintf(stderr, "pullgate pki: %s\n", msg);
	if (cmd && pki_cmd_parse(cmd, &c) == 0)
		fprintf(stderr, "usage:\n%s", pki_synopsis[c]);
	else
		fputs("usage: pullgate pki ca|issue|inspect|revoke|crl [OPTIONS]\n", stderr);
	fputs("Run 'pullgate pki --help' for details.\n", stderr);
	return 2;
}

static int pki_run(const struct pki_opts *o, char *err, size_t errlen)
{
	time_t now = time(NULL);

	switch (o->cmd) {
	case PKI_CMD_CA:
		return pki_cmd_ca(o, err, errlen);
	case PKI_CMD_ISSUE:
		return pki_cmd_issue(o, err, errlen);
	case PKI_CMD_INSPECT:
		return pki_cmd_inspect(o, now, stdout, err, errlen);
	case PKI_CMD_REVOKE:
	case PKI_CMD_CRL:
		return pki_cmd_revoke(o, now, err, errlen);
	}
	return -1;
}

int pki_main(int argc, char **argv)
{
	char err[PKI_ERR_LEN] = "";
	struct pki_opts o;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!cmd)
		return pki_usage_error(NULL, NULL);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		pki_help(stdout);
		return 0;
	}
	switch (pki_opts_parse(&o, argc - 1, argv + 1, time(NULL), err, sizeof err)) {
	case PKI_OPTS_HELP:
		pki_help(stdout);
		return 0;
	case PKI_OPTS_USAGE:
		return pki_usage_error(err, cmd);
	case PKI_OPTS_OK:
		break;
	}
	rc = pki_run(&o, err, sizeof err);
	pki_opts_free(&o);
	if (rc < 0) {
		fprintf(stderr, "pullgate pki: %s\n", err[0] ? err : "failed");
		return 1;
	}
	if (fflush(stdout) != 0) {
		perror("pullgate pki: stdout");
		return 1;
	}
	return 0;
}
