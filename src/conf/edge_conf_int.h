/*
 * edge_conf_int: what the two halves of the edge's loader share (edge_conf.c
 * reads the section's own keys, edge_conf_zone.c its zones and records).
 * Not for use outside src/conf.
 */
#ifndef PULLGATE_CONF_EDGE_CONF_INT_H
#define PULLGATE_CONF_EDGE_CONF_INT_H

#include "conf/edge_conf.h"
#include "conf/yaml_doc.h"

#define EDGE_MS_SEC 1000u
#define EDGE_MS_MIN (60u * EDGE_MS_SEC)
#define EDGE_MS_HOUR (60u * EDGE_MS_MIN)

/* Reads the keys certificate and key of map (a zone, a record, or a
 * client_certificate mapping, whose path is given) into *out; each needs the
 * other. required: a pair must be there (a client_certificate mapping). */
void edge_conf_read_cert_pair(struct ydoc *d, yaml_node_t *map, const char *path, bool required,
			      struct cert_files *out);
/* A client_certificate mapping: certificate and key, nothing else. */
void edge_conf_read_client_cert(struct ydoc *d, yaml_node_t *n, const char *path,
				struct cert_files *out);

/* Reads edge.zones into c, resolving every record's effective settings. The
 * edge-wide keys (client_certificate, origin_ca) must be read already. */
void edge_conf_read_zones(struct ydoc *d, yaml_node_t *n, struct edge_conf *c);
void edge_conf_free_zones(struct edge_conf *c);

void edge_cert_files_free(struct cert_files *cf);

#endif
