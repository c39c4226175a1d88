/*
 * pki: the `pullgate pki` subcommand — make CAs, issue client and server
 * certificates, inspect certificates and CRLs, revoke and write CRLs.
 * Reference: docs/pki.md.
 */
#ifndef PULLGATE_PKI_PKI_H
#define PULLGATE_PKI_PKI_H

/* argv[0] is "pki", argv[1] the pki subcommand. Returns the process exit
 * code: 0 success, 1 runtime failure (one line on stderr naming the file),
 * 2 usage error (short usage on stderr). */
int pki_main(int argc, char **argv);

#endif
