/* pullgate: subcommand dispatch only. */
#include <stdio.h>
#include <openssl/opensslv.h>
#include <string.h>

#include "guard/guard.h"
#include "pki/pki.h"

#define PULLGATE_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out, "pullgate %s: authenticated origin pulls, end to end\n\n"
		     "usage:\n"
		     "  pullgate guard -c FILE   the origin side: require and verify client certificates\n"
		     "  pullgate check -c FILE   validate a configuration without starting\n"
		     "  pullgate pki COMMAND     make CAs, certificates and CRLs (pullgate pki --help)\n"
		     "  pullgate version\n",
		PULLGATE_VERSION);
}

static int check_main(int argc, char **argv)
{
	if (argc == 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--config") == 0))
		return guard_check(argv[2], false);
	fprintf(stderr, "usage: pullgate check -c FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "guard") == 0)
		return guard_main(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return check_main(argc - 1, argv + 1);
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
