/*
 * shared_ec_keys: one decoded EC public key per distinct key, shared by
 * every certificate that carries it.
 *
 * OpenSSL 3.0 decodes a certificate's EC key into a fresh EC_KEY with its
 * own copy of the curve: EC_GROUP_new_by_curve_name builds the group and
 * its Montgomery contexts from scratch (about 140,000 instructions), then
 * EC_KEY_set_group copies it. A guard parses its client's certificate in
 * each full handshake and twice more for the session ticket, so for a
 * resumed handshake that was a tenth of the work, and every connection
 * kept about 2 KiB of curve and point alive for its certificate.
 *
 * The same client keys come back again and again, so the EC method's
 * public-key decoder here answers from a small table keyed by the exact
 * curve and point bytes, and decodes (as OpenSSL's own method does) only
 * what it has not seen. A decoded EC_KEY is immutable and reference
 * counted; verifying with it only reads it, from any thread. A key stays
 * in its slot until another key's bytes pick the same slot: at most 64
 * public keys (about 2 KiB each) are kept that no certificate uses any
 * more, and a kept key says nothing about trust, which the chain decides.
 * A shared P-256 key that verifies often gets a precomputed table
 * (tls/fixed_base_verify.h), which lives as long as the key.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY and ENGINE: see above */
#include "tls/shared_ec_keys.h"
#include "tls/fixed_base_verify.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>

#define SHARED_EC_SLOTS 64
#define SHARED_EC_POINT_MAX 133 /* an uncompressed P-521 point */

struct shared_ec_slot {
	int nid;
	unsigned len;
	unsigned char point[SHARED_EC_POINT_MAX];
	EC_KEY *key; /* one reference held by the table */
};

static struct {
	pthread_mutex_t lock;
	struct shared_ec_slot slot[SHARED_EC_SLOTS];
	unsigned long long hits, lookups;
} table = { .lock = PTHREAD_MUTEX_INITIALIZER };

static EVP_PKEY_ASN1_METHOD *shared_ec_method;

static unsigned slot_index(int nid, const unsigned char *p, unsigned len)
{
	/* FNV-1a over the point; the last bytes of a point are its y. */
	unsigned h = 2166136261u ^ (unsigned)nid;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SHARED_EC_SLOTS;
}

/* A new reference to the table's key for this curve and point, or NULL. */
static EC_KEY *table_find(int nid, const unsigned char *p, unsigned len)
{
	struct shared_ec_slot *s = &table.slot[slot_index(nid, p, len)];
	EC_KEY *key = NULL;
	pthread_mutex_lock(&table.lock);
	table.lookups++;
	if (s->key && s->nid == nid && s->len == len && memcmp(s->point, p, len) == 0 &&
	    EC_KEY_up_ref(s->key) == 1) {
		key = s->key;
		table.hits++;
	}
	pthread_mutex_unlock(&table.lock);
	return key;
}

static void table_keep(int nid, const unsigned char *p, unsigned len, EC_KEY *key)
{
	if (EC_KEY_up_ref(key) != 1)
		return;
	struct shared_ec_slot *s = &table.slot[slot_index(nid, p, len)];
	pthread_mutex_lock(&table.lock);
	EC_KEY *old = s->key;
	s->nid = nid;
	s->len = len;
	memcpy(s->point, p, len);
	s->key = key;
	pthread_mutex_unlock(&table.lock);
	EC_KEY_free(old);
}

/* A key on the curve of an id-ecPublicKey algorithm, as OpenSSL's EC
 * method reads it: a named curve (nid, from ptype V_ASN1_OBJECT), or
 * explicit parameters. */
static EC_KEY *key_for_parameters(int ptype, const void *pval, int nid)
{
	if (ptype == V_ASN1_OBJECT)
		return nid == NID_undef ? NULL : EC_KEY_new_by_curve_name(nid);
	if (ptype == V_ASN1_SEQUENCE) {
		const ASN1_STRING *seq = pval;
		const unsigned char *pm = ASN1_STRING_get0_data(seq);
		return d2i_ECParameters(NULL, &pm, ASN1_STRING_length(seq));
	}
	return NULL;
}

static int shared_pub_decode(EVP_PKEY *pkey, const X509_PUBKEY *pub)
{
	const unsigned char *p = NULL;
	int plen = 0;
	X509_ALGOR *alg = NULL;
	int ptype;
	const void *pval;
	if (!X509_PUBKEY_get0_param(NULL, &p, &plen, &alg, pub) || plen <= 0)
		return 0;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	int nid = ptype == V_ASN1_OBJECT ? OBJ_obj2nid(pval) : NID_undef;
	/* Only named curves are shared: their key is the point alone. */
	bool shareable = nid != NID_undef && plen <= SHARED_EC_POINT_MAX;
	EC_KEY *key = shareable ? table_find(nid, p, (unsigned)plen) : NULL;
	if (!key) {
		key = key_for_parameters(ptype, pval, nid);
		const unsigned char *q = p;
		if (!key || !o2i_ECPublicKey(&key, &q, plen)) {
			EC_KEY_free(key);
			ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
			return 0;
		}
		if (shareable) {
			/* Before anyone else holds it; P-256 keys only. */
			fixed_base_verify_attach(key);
			table_keep(nid, p, (unsigned)plen, key);
		}
	}
	if (!EVP_PKEY_assign_EC_KEY(pkey, key)) {
		EC_KEY_free(key);
		return 0;
	}
	return 1;
}

/* The rest of the public-key part of an EC method, which
 * EVP_PKEY_asn1_set_public sets together with the decoder: the same
 * encodings and answers as OpenSSL's own, through the EC_KEY API. */
static int shared_pub_encode(X509_PUBKEY *pub, const EVP_PKEY *pkey)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
	const EC_GROUP *group = ec ? EC_KEY_get0_group(ec) : NULL;
	if (!group || !EC_KEY_get0_public_key(ec))
		return 0;
	void *pval = NULL;
	int ptype;
	int nid = EC_GROUP_get_curve_name(group);
	if (nid != NID_undef && (EC_GROUP_get_asn1_flag(group) & OPENSSL_EC_NAMED_CURVE)) {
		ptype = V_ASN1_OBJECT;
		pval = OBJ_nid2obj(nid);
	} else {
		ASN1_STRING *params = ASN1_STRING_new();
		unsigned char *der = NULL;
		int len = i2d_ECParameters(ec, &der);
		if (!params || len <= 0) {
			ASN1_STRING_free(params);
			OPENSSL_free(der);
			return 0;
		}
		ASN1_STRING_set0(params, der, len);
		ptype = V_ASN1_SEQUENCE;
		pval = params;
	}
	unsigned char *point = NULL;
	int plen = i2o_ECPublicKey(ec, &point);
	if (plen <= 0 || !X509_PUBKEY_set0_param(pub, OBJ_nid2obj(EVP_PKEY_EC), ptype, pval, point,
						 plen)) {
		if (ptype == V_ASN1_SEQUENCE)
			ASN1_STRING_free(pval);
		OPENSSL_free(point);
		return 0;
	}
	return 1;
}

static int shared_pub_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
	const EC_KEY *ka = EVP_PKEY_get0_EC_KEY(a), *kb = EVP_PKEY_get0_EC_KEY(b);
	if (!ka || !kb)
		return -2;
	const EC_GROUP *group = EC_KEY_get0_group(kb);
	const EC_POINT *pa = EC_KEY_get0_public_key(ka), *pb = EC_KEY_get0_public_key(kb);
	if (!group || !pa || !pb)
		return -2;
	int r = EC_POINT_cmp(group, pa, pb, NULL);
	return r == 0 ? 1 : r == 1 ? 0 : -2;
}

static int shared_pub_print(BIO *out, const EVP_PKEY *pkey, int indent, ASN1_PCTX *pctx)
{
	(void)pctx;
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
	return ec ? EC_KEY_print(out, ec, indent) : 0;
}

static int shared_pkey_size(const EVP_PKEY *pkey)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
	return ec ? ECDSA_size(ec) : 0;
}

static int shared_pkey_bits(const EVP_PKEY *pkey)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
	const EC_GROUP *group = ec ? EC_KEY_get0_group(ec) : NULL;
	return group ? EC_GROUP_order_bits(group) : 0;
}

static int shared_ec_asn1_meths(ENGINE *e, EVP_PKEY_ASN1_METHOD **meth, const int **nids, int nid)
{
	static const int ec_nids[] = { EVP_PKEY_EC };
	(void)e;
	if (!meth) {
		*nids = ec_nids;
		return 1;
	}
	*meth = nid == EVP_PKEY_EC ? shared_ec_method : NULL;
	return *meth != NULL;
}

static EVP_PKEY_ASN1_METHOD *shared_ec_method_new(void)
{
	const EVP_PKEY_ASN1_METHOD *builtin = EVP_PKEY_asn1_find(NULL, EVP_PKEY_EC);
	int id, base, flags;
	const char *info, *pem;
	if (!builtin || EVP_PKEY_asn1_get0_info(&id, &base, &flags, &info, &pem, builtin) != 1)
		return NULL;
	EVP_PKEY_ASN1_METHOD *m = EVP_PKEY_asn1_new(id, flags, pem, info);
	if (!m)
		return NULL;
	/* Everything else (private keys, parameters, the provider export) is
	 * OpenSSL's own. */
	EVP_PKEY_asn1_copy(m, builtin);
	EVP_PKEY_asn1_set_public(m, shared_pub_decode, shared_pub_encode, shared_pub_cmp,
				 shared_pub_print, shared_pkey_size, shared_pkey_bits);
	return m;
}

bool shared_ec_keys_set(ENGINE *e)
{
	if (!shared_ec_method && !(shared_ec_method = shared_ec_method_new()))
		return false;
	return ENGINE_set_pkey_asn1_meths(e, shared_ec_asn1_meths) == 1;
}

void shared_ec_keys_counts(unsigned long long *hits, unsigned long long *lookups)
{
	pthread_mutex_lock(&table.lock);
	*hits = table.hits;
	*lookups = table.lookups;
	pthread_mutex_unlock(&table.lock);
}
