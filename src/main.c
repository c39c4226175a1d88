/* pullgate: subcommand dispatch only. */
#include <malloc.h>
#include <stdio.h>
#include <openssl/opensslv.h>
#include <string.h>

#include "cli/reload.h"
#include "conf/conf_present.h"
#include "edge/edge.h"
#include "guard/guard.h"
#include "pki/pki.h"
#include "tls/key_decode.h"
#include "tls/record_ciphers.h"
#include "tls/tls13_kdf.h"

#define PULLGATE_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out, "pullgate %s: authenticated origin pulls, end to end\n\n"
		     "usage:\n"
		     "  pullgate edge -c FILE    the visitor side: zones, SSL modes, authenticated origin pulls\n"
		     "  pullgate guard -c FILE   the origin side: require and verify client certificates\n"
		     "  pullgate check -c FILE   validate a configuration without starting\n"
		     "  pullgate reload -c FILE  ask the running roles to reload FILE (via their admin listener)\n"
		     "  pullgate pki COMMAND     make CAs, certificates and CRLs (pullgate pki --help)\n"
		     "  pullgate version\n",
		PULLGATE_VERSION);
}

/* Validates every role section the file has, as a start would. */
static int check_main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "-c") != 0 && strcmp(argv[1], "--config") != 0)) {
		fprintf(stderr, "usage: pullgate check -c FILE\n");
		return 2;
	}
	const char *path = argv[2];
	bool guard = false, edge = false;
	struct conf_errors errs = { 0 };
	bool ok = conf_sections_present(path, &guard, &edge, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (!ok)
		return 2;
	if (!guard && !edge) {
		fprintf(stderr, "%s:1: no guard or edge section\n", path);
		return 2;
	}
	int status = 0;
	if (guard && guard_check(path, true) != 0)
		status = 2;
	if (edge && edge_check(path, true) != 0)
		status = 2;
	if (status == 0)
		printf("configuration ok: %s (%s%s%s)\n", path, guard ? "guard" : "", guard && edge ? ", " : "",
		       edge ? "edge" : "");
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "guard") == 0 || strcmp(cmd, "edge") == 0) {
		/* Before any certificate is parsed (see tls/key_decode.c); without
		 * it the roles work the same, only slower. */
		key_decode_install();
		/* Before any SSL_CTX exists (see tls/record_ciphers.c); the same
		 * algorithms either way. */
		record_ciphers_install();
		/* The same, for the TLS 1.3 key schedule (see tls/tls13_kdf.c). */
		tls13_kdf_install();
		/* Request buffers freed under load stay with the allocator rather
		 * than go back to the kernel and fault in again for the next
		 * request (about one page fault per request otherwise). */
		mallopt(M_TRIM_THRESHOLD, 64 << 20);
		return cmd[0] == 'g' ? guard_main(argc - 1, argv + 1) : edge_main(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (strcmp(cmd, "reload") == 0)
		return reload_main(argc - 1, argv + 1);
	if (strcmp(cmd, "pki") == 0)
		return pki_main(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("pullgate %s (%s)\n", PULLGATE_VERSION, OPENSSL_VERSION_TEXT);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "pullgate: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
