/*
 * pki_files: file input and all-or-nothing output for the pki tool.
 */
#include "pki/pki_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "pki/pki_err.h"

#define PKI_FILES_MAX_OUT 4

int pki_file_read(const char *path, unsigned char **data, size_t *len,
		  char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf;
	size_t cap, used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pki_err_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		pki_err_set(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pki_err_set(err, errlen, "%s: %s", path,
			    S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
		close(fd);
		return -1;
	}
	if ((unsigned long long)st.st_size > PKI_FILE_MAX) {
		pki_err_set(err, errlen, "%s: file too large", path);
		close(fd);
		return -1;
	}
	cap = (size_t)st.st_size + 1;
	buf = OPENSSL_malloc(cap);
	if (!buf) {
		pki_err_set(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	/* Read up to the size fstat saw; a file that grows meanwhile is cut. */
	while (used < cap - 1) {
		ssize_t r = read(fd, buf + used, cap - 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pki_err_set(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			OPENSSL_clear_free(buf, cap);
			return -1;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	close(fd);
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
}

void pki_file_free(unsigned char *data, size_t len)
{
	/* +1 for the NUL pki_file_read appends; clear_free wipes len bytes. */
	if (data)
		OPENSSL_clear_free(data, len + 1);
}

bool pki_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

int pki_files_check(const struct pki_output *outs, size_t n, bool replace,
		    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(outs[i].path, outs[j].path) == 0) {
				pki_err_set(err, errlen, "%s: given for two outputs",
					    outs[i].path);
				return -1;
			}
		}
		if (!replace && pki_file_exists(outs[i].path)) {
			pki_err_set(err, errlen, "%s exists (use --force to overwrite)",
				    outs[i].path);
			return -1;
		}
	}
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes, sets the exact mode (not the umask's) and flushes to disk, so the
 * rename that follows publishes complete contents. */
static int fill_fd(int fd, const struct pki_output *o)
{
	if (fchmod(fd, o->mode) < 0 || write_all(fd, o->data, o->len) < 0 ||
	    fsync(fd) < 0)
		return -1;
	return 0;
}

static int write_created(const struct pki_output *outs, size_t n, char *err,
			 size_t errlen)
{
	bool created[PKI_FILES_MAX_OUT] = { false };
	size_t i;

	for (i = 0; i < n; i++) {
		/* 0600 at creation: the bytes are never readable by others,
		 * even for the moment before fchmod. */
		int fd = open(outs[i].path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd < 0) {
			if (errno == EEXIST)
				pki_err_set(err, errlen, "%s exists (use --force to overwrite)",
					    outs[i].path);
			else
				pki_err_set(err, errlen, "%s: %s", outs[i].path,
					    strerror(errno));
			goto fail;
		}
		created[i] = true;
		if (fill_fd(fd, &outs[i]) < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			close(fd);
			goto fail;
		}
		if (close(fd) < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	for (i = 0; i < n; i++)
		if (created[i])
			unlink(outs[i].path);
	return -1;
}

static int write_replaced(const struct pki_output *outs, size_t n, char *err,
			  size_t errlen)
{
	char tmp[PKI_FILES_MAX_OUT][4096];
	bool made[PKI_FILES_MAX_OUT] = { false };
	size_t i;

	for (i = 0; i < n; i++) {
		int fd;

		if ((size_t)snprintf(tmp[i], sizeof tmp[i], "%s.tmp.XXXXXX",
				     outs[i].path) >= sizeof tmp[i]) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path,
				    strerror(ENAMETOOLONG));
			goto fail;
		}
		fd = mkostemp(tmp[i], O_CLOEXEC);
		if (fd < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			goto fail;
		}
		made[i] = true;
		if (fill_fd(fd, &outs[i]) < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			close(fd);
			goto fail;
		}
		if (close(fd) < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			goto fail;
		}
	}
	/* Everything is on disk: publish. The temporary files sit in the
	 * target's directory, so a rename can only fail if that directory
	 * changes under us (or a target is a directory). */
	for (i = 0; i < n; i++) {
		if (rename(tmp[i], outs[i].path) < 0) {
			pki_err_set(err, errlen, "%s: %s", outs[i].path, strerror(errno));
			goto fail;
		}
		made[i] = false;
	}
	return 0;
fail:
	for (i = 0; i < n; i++)
		if (made[i])
			unlink(tmp[i]);
	return -1;
}

int pki_files_write(const struct pki_output *outs, size_t n, bool replace,
		    char *err, size_t errlen)
{
	if (n > PKI_FILES_MAX_OUT) {
		pki_err_set(err, errlen, "too many outputs");
		return -1;
	}
	if (pki_files_check(outs, n, replace, err, errlen) < 0)
		return -1;
	return replace ? write_replaced(outs, n, err, errlen)
		       : write_created(outs, n, err, errlen);
}
