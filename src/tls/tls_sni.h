/* tls_sni: the SNI as the ClientHello carries it, readable in a client-hello
 * callback — before OpenSSL decrypts a session ticket, so that resumption
 * can be judged against the name the client asks for now. */
#ifndef PULLGATE_TLS_TLS_SNI_H
#define PULLGATE_TLS_TLS_SNI_H

#include <openssl/ssl.h>

#include "core/slice.h"

/* The first host_name of the server_name extension: 1 with *name set (a
 * slice into OpenSSL's copy of the ClientHello, valid during the callback),
 * 0 when there is none, -1 when the extension is malformed. Only inside a
 * client-hello callback. */
int tls_client_hello_sni(SSL *ssl, struct slice *name);

#endif
