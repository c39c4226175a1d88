/* net: see net.h. */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

int net_resolve(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len,
		char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char service[8];
	snprintf(service, sizeof service, "%u", port);
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int net_unix_addr(const char *path, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)out;
	if (strlen(path) >= sizeof sun->sun_path)
		return -1;
	memset(out, 0, sizeof *out);
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	return 0;
}

int net_listen(const struct sockaddr_storage *addr, socklen_t len, int backlog, char *err,
	       size_t errlen)
{
	char name[160];
	net_addr_format(addr, name, sizeof name);
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", name, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void net_addr_ip(const struct sockaddr_storage *addr, char *out, size_t outlen)
{
	if (addr->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, out, outlen);
	else if (addr->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, out, outlen);
	else
		snprintf(out, outlen, "unix");
}

void net_addr_format(const struct sockaddr_storage *addr, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];
	if (addr->ss_family == AF_INET) {
		net_addr_ip(addr, ip, sizeof ip);
		snprintf(out, outlen, "%s:%u", ip, ntohs(((const struct sockaddr_in *)addr)->sin_port));
	} else if (addr->ss_family == AF_INET6) {
		net_addr_ip(addr, ip, sizeof ip);
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(((const struct sockaddr_in6 *)addr)->sin6_port));
	} else if (addr->ss_family == AF_UNIX) {
		snprintf(out, outlen, "unix:%s", ((const struct sockaddr_un *)addr)->sun_path);
	} else {
		snprintf(out, outlen, "?");
	}
}
