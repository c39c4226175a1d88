/*
 * pki_files: reading input files and writing a command's outputs all or
 * nothing. Outputs are checked together before anything is written; a new
 * file is created with O_EXCL, a replaced one is written to a temporary file
 * beside it and renamed over, so a reader never sees half a file.
 */
#ifndef PULLGATE_PKI_PKI_FILES_H
#define PULLGATE_PKI_PKI_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest input file read (CRLs of big CAs stay far below this). */
#define PKI_FILE_MAX (16u * 1024 * 1024)

/* Reads the whole file. On success *data is NUL-terminated (not counted in
 * *len) and owned by the caller, who releases it with pki_file_free. */
int pki_file_read(const char *path, unsigned char **data, size_t *len,
		  char *err, size_t errlen);

/* Wipes and frees a buffer from pki_file_read (NULL is fine). */
void pki_file_free(unsigned char *data, size_t len);

/* True when something (a file, a dangling symlink, ...) exists at path. */
bool pki_file_exists(const char *path);

/* One file to write: the bytes are borrowed for the call. */
struct pki_output {
	const char *path;
	const void *data;
	size_t len;
	mode_t mode;
};

/* Fails without touching anything when two outputs share a path, or when
 * one exists and replace is false. */
int pki_files_check(const struct pki_output *outs, size_t n, bool replace,
		    char *err, size_t errlen);

/* Checks like pki_files_check, then writes every output with its exact mode.
 * Without replace, files are created with O_EXCL; with replace, each is
 * written to a temporary file and renamed into place once all are written.
 * On failure, files this call created are removed. */
int pki_files_write(const struct pki_output *outs, size_t n, bool replace,
		    char *err, size_t errlen);

#endif
