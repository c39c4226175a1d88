/* net: socket set-up at the boundary — resolving, listening, naming peers. */
#ifndef PULLGATE_CORE_NET_H
#define PULLGATE_CORE_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Resolves host (numeric or a name, via the system resolver) and port.
 * Returns 0, or -1 with a message in err. */
int net_resolve(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len,
		char *err, size_t errlen);
/* Fills a sockaddr_un for path. Returns -1 when the path is too long. */
int net_unix_addr(const char *path, struct sockaddr_storage *out, socklen_t *len);
/* A non-blocking listening TCP socket with SO_REUSEPORT, so each worker can
 * own one. Returns the fd, or -1 with a message in err. */
int net_listen(const struct sockaddr_storage *addr, socklen_t len, int backlog, char *err,
	       size_t errlen);
/* "127.0.0.1:8443", "[::1]:8443" or "unix:/path" */
void net_addr_format(const struct sockaddr_storage *addr, char *out, size_t outlen);
/* The IP alone ("127.0.0.1", "::1"), for X-Forwarded-For. */
void net_addr_ip(const struct sockaddr_storage *addr, char *out, size_t outlen);

#endif
