/*
 * pki_cmds: the pki subcommands, each run on parsed options. They return 0
 * or -1 with err set (one line naming the file involved); output meant for
 * the user (inspect) goes to out.
 */
#ifndef PULLGATE_PKI_PKI_CMDS_H
#define PULLGATE_PKI_PKI_CMDS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "pki/pki_opts.h"

int pki_cmd_ca(const struct pki_opts *o, char *err, size_t errlen);
int pki_cmd_issue(const struct pki_opts *o, char *err, size_t errlen);
/* now decides days_left and status. */
int pki_cmd_inspect(const struct pki_opts *o, time_t now, FILE *out, char *err,
		    size_t errlen);
/* revoke and crl (the latter with no CERTFILEs). */
int pki_cmd_revoke(const struct pki_opts *o, time_t now, char *err,
		   size_t errlen);

#endif
