/*
 * pki_opts: the command line of each pki subcommand, parsed and validated
 * into one struct without touching any file, so every usage error (exit 2)
 * is found before work starts.
 */
#ifndef PULLGATE_PKI_PKI_OPTS_H
#define PULLGATE_PKI_PKI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "pki/pki_keys.h"

enum pki_cmd {
	PKI_CMD_CA,
	PKI_CMD_ISSUE,
	PKI_CMD_INSPECT,
	PKI_CMD_REVOKE,
	PKI_CMD_CRL,
};

enum pki_leaf_kind {
	PKI_LEAF_CLIENT,
	PKI_LEAF_SERVER,
};

/* Strings are borrowed from argv; the arrays dns, ips and files are owned
 * and released by pki_opts_free. Unset strings are NULL. */
struct pki_opts {
	enum pki_cmd cmd;
	enum pki_leaf_kind leaf;	/* issue */
	const char *cert, *key, *cn, *org;
	const char *ca_cert, *ca_key;	/* issue, revoke, crl */
	const char *issuer_cert, *issuer_key;	/* ca (intermediate) */
	const char *crl;
	enum pki_key_type key_type;
	long days;			/* the command's default when not given */
	time_t not_before;		/* --start, resolved against now */
	bool self_signed, chain, force;
	const char **dns;
	size_t n_dns;
	const char **ips;
	size_t n_ips;
	const char **files;		/* inspect FILE, revoke CERTFILE... */
	size_t n_files;
};

enum pki_opts_result {
	PKI_OPTS_OK = 0,
	PKI_OPTS_HELP = 1,	/* --help or -h: print usage, exit 0 */
	PKI_OPTS_USAGE = -1,	/* err says what is wrong */
};

/* Looks up a subcommand name; returns 0 or -1. */
int pki_cmd_parse(const char *name, enum pki_cmd *out);

/* Parses argv[1..argc-1] of subcommand argv[0] ("ca", "issue", ...). now
 * resolves --start. On PKI_OPTS_OK the caller must call pki_opts_free; on the
 * other results nothing is left to free. */
enum pki_opts_result pki_opts_parse(struct pki_opts *o, int argc, char **argv,
				    time_t now, char *err, size_t errlen);

void pki_opts_free(struct pki_opts *o);

/* DNS names accepted for --dns: letter/digit/hyphen/underscore labels of
 * 1..63 bytes joined by dots, 253 bytes at most, optionally "*." first. */
bool pki_opts_dns_name_ok(const char *name);

#endif
