/*
 * x25519: the public half of a new X25519 key pair (RFC 7748), computed
 * from a table.
 *
 * Every full handshake of the guard makes a new key pair. OpenSSL 3.0
 * computes the public key X25519(k, 9) with the same variable-base
 * Montgomery ladder it uses for shared secrets: 255 ladder steps, about
 * 38 µs here, an eighth of a whole handshake. The point 9 is known in
 * advance, so here k·B is computed on the twisted Edwards curve
 * birationally equivalent to curve25519, from a table of multiples of the
 * base point (32 rows of 8, about 32 KiB, built once per process): 64
 * table additions and 4 doublings, then one inversion for the Montgomery
 * u = (1 + y) / (1 - y); about 15 µs. Keys made together share that
 * inversion (x25519_public_keys; tls/x25519_pool.h makes them eight at a
 * time): about 11 µs each. The shared secret stays OpenSSL's (its
 * assembly ladder is faster than C).
 *
 * Field elements are five 51-bit limbs (radix 2^51) with 128-bit products.
 * Everything that touches the private scalar runs in constant time: no
 * branch or memory address depends on it (table rows are read whole and
 * the wanted entry kept with masks).
 */
#include "tls/x25519.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/* An element of GF(2^255 - 19): v[0] + v[1]·2^51 + ... + v[4]·2^204. Limbs
 * may exceed 51 bits between operations; the bounds noted at fe_sub hold. */
typedef struct {
	uint64_t v[5];
} fe;

#define MASK51 ((UINT64_C(1) << 51) - 1)

static void fe_set_small(fe *h, uint64_t n)
{
	memset(h, 0, sizeof *h);
	h->v[0] = n;
}

static void fe_add(fe *h, const fe *f, const fe *g)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
}

/* h = f - g, computed as f + 4p - g so no limb goes below zero. f's and
 * g's limbs must stay under 2^53 (true of every product, and of sums of
 * two products); h's stay under 2^54, and fe_mul and fe_sq take limbs
 * under 2^54 (their 128-bit sums and carries do not overflow). */
static void fe_sub(fe *h, const fe *f, const fe *g)
{
	h->v[0] = f->v[0] + UINT64_C(0x1fffffffffffb4) - g->v[0];
	for (int i = 1; i < 5; i++)
		h->v[i] = f->v[i] + UINT64_C(0x1ffffffffffffc) - g->v[i];
}

static void fe_neg(fe *h, const fe *f)
{
	fe zero;
	fe_set_small(&zero, 0);
	fe_sub(h, &zero, f);
}

/* The carries of a product back into 51-bit limbs; bit 255 and above fold
 * into the low limb times 19, since 2^255 = 19 (mod p). */
static inline __attribute__((always_inline)) void fe_carry_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3,
                                                                u128 r4)
{
	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	uint64_t h0 = ((uint64_t)r0 & MASK51) + 19 * (uint64_t)(r4 >> 51);
	uint64_t h1 = (uint64_t)r1 & MASK51;
	h1 += h0 >> 51;
	h->v[0] = h0 & MASK51;
	h->v[1] = h1;
	h->v[2] = (uint64_t)r2 & MASK51;
	h->v[3] = (uint64_t)r3 & MASK51;
	h->v[4] = (uint64_t)r4 & MASK51;
}

static void fe_mul(fe *h, const fe *f, const fe *g)
{
	uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
	uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
	u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
	u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
	u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
	u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
	u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
	fe_carry_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq(fe *h, const fe *f)
{
	uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f1_38 = 38 * f1, f2_38 = 38 * f2;
	uint64_t f3_38 = 38 * f3, f3_19 = 19 * f3, f4_19 = 19 * f4;
	u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
	u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
	u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
	u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
	u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
	fe_carry_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq_times(fe *h, const fe *f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* h = z^(p-2) = 1/z (0 for 0): the usual chain of 254 squarings and 11
 * multiplications. */
static void fe_invert(fe *h, const fe *z)
{
	fe z2, z9, z11, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0, t;
	fe_sq(&z2, z);                 /* 2 */
	fe_sq_times(&t, &z2, 2);       /* 8 */
	fe_mul(&z9, &t, z);            /* 9 */
	fe_mul(&z11, &z9, &z2);        /* 11 */
	fe_sq(&t, &z11);               /* 22 */
	fe_mul(&z2_5_0, &t, &z9);      /* 2^5 - 2^0 */
	fe_sq_times(&t, &z2_5_0, 5);   /* 2^10 - 2^5 */
	fe_mul(&z2_10_0, &t, &z2_5_0); /* 2^10 - 2^0 */
	fe_sq_times(&t, &z2_10_0, 10);
	fe_mul(&z2_20_0, &t, &z2_10_0); /* 2^20 - 2^0 */
	fe_sq_times(&t, &z2_20_0, 20);
	fe_mul(&t, &t, &z2_20_0); /* 2^40 - 2^0 */
	fe_sq_times(&t, &t, 10);
	fe_mul(&z2_50_0, &t, &z2_10_0); /* 2^50 - 2^0 */
	fe_sq_times(&t, &z2_50_0, 50);
	fe_mul(&z2_100_0, &t, &z2_50_0); /* 2^100 - 2^0 */
	fe_sq_times(&t, &z2_100_0, 100);
	fe_mul(&t, &t, &z2_100_0); /* 2^200 - 2^0 */
	fe_sq_times(&t, &t, 50);
	fe_mul(&t, &t, &z2_50_0); /* 2^250 - 2^0 */
	fe_sq_times(&t, &t, 5);   /* 2^255 - 2^5 */
	fe_mul(h, &t, &z11);      /* 2^255 - 21 = p - 2 */
}

static uint64_t load64_le(const uint8_t *s)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | s[i];
	return v;
}

/* A u-coordinate or an Edwards coordinate from 32 bytes, little-endian,
 * bit 255 ignored (RFC 7748, section 5). Values from p to 2^255 - 1 are
 * accepted and reduced by the arithmetic, as the RFC says. */
static void fe_frombytes(fe *h, const uint8_t s[32])
{
	h->v[0] = load64_le(s) & MASK51;
	h->v[1] = (load64_le(s + 6) >> 3) & MASK51;
	h->v[2] = (load64_le(s + 12) >> 6) & MASK51;
	h->v[3] = (load64_le(s + 19) >> 1) & MASK51;
	h->v[4] = (load64_le(s + 24) >> 12) & MASK51;
}

/* The canonical encoding: fully reduced below p. */
static void fe_tobytes(uint8_t s[32], const fe *f)
{
	uint64_t t[5];
	memcpy(t, f->v, sizeof t);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++) {
			t[i + 1] += t[i] >> 51;
			t[i] &= MASK51;
		}
		t[0] += 19 * (t[4] >> 51);
		t[4] &= MASK51;
	}
	/* Now t < 2^255 + 2^51. q = 1 when t >= p, that is when t + 19 carries
	 * out of bit 255; then t - p = t + 19 - 2^255. */
	uint64_t q = (t[0] + 19) >> 51;
	for (int i = 1; i < 5; i++)
		q = (t[i] + q) >> 51;
	t[0] += 19 * q;
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= MASK51;
	}
	t[4] &= MASK51;
	uint64_t w[4] = {t[0] | t[1] << 51, t[1] >> 13 | t[2] << 38, t[2] >> 26 | t[3] << 25,
	                 t[3] >> 39 | t[4] << 12};
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			s[8 * i + b] = (uint8_t)(w[i] >> (8 * b));
}

/* f = g when move is 1, unchanged when it is 0, without a branch. */
static void fe_cmov(fe *f, const fe *g, uint64_t move)
{
	uint64_t mask = 0 - move;
	for (int i = 0; i < 5; i++)
		f->v[i] ^= mask & (f->v[i] ^ g->v[i]);
}

static void clamp(uint8_t k[32], const uint8_t priv[32])
{
	memcpy(k, priv, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

/* ---- the public key: fixed-base, on the Edwards curve ------------------ */

/* Points of -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates: x = X/Z,
 * y = Y/Z, x·y = T/Z (Hisil, Wong, Carter and Dawson, 2008). */
struct ge {
	fe x, y, z, t;
};

/* A table entry: an affine point as (y + x, y - x, 2d·x·y). */
struct ge_niels {
	fe ypx, ymx, xy2d;
	uint64_t pad; /* to 128 bytes: table_select reads 16 bytes at a time */
};

#define TABLE_ROWS 32 /* one per byte of the scalar */
#define TABLE_COLS 8  /* 1..8 times the row's point: signed radix-16 digits */

static struct ge_niels (*base_table)[TABLE_COLS]; /* [r][c] = (c+1)·256^r·B */
static fe curve_d2;                               /* 2d */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* The base point B (RFC 7748, section 4.1: the Edwards form of u = 9),
 * little-endian. */
static const uint8_t base_x[32] = {0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25,
                                   0x95, 0x60, 0xc7, 0x2c, 0x69, 0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2,
                                   0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21};
static const uint8_t base_y[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

/* r = (E·F : G·H : F·G : E·H), the last step of every formula below. */
static inline void ge_set_efgh(struct ge *r, const fe *e, const fe *f, const fe *g, const fe *h)
{
	fe_mul(&r->x, e, f);
	fe_mul(&r->y, g, h);
	fe_mul(&r->t, e, h);
	fe_mul(&r->z, f, g);
}

/* The end of an addition, from A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2),
 * C = 2d·T1·T2 and D = 2·Z1·Z2. */
static inline void ge_add_abcd(struct ge *r, const fe *a, const fe *b, const fe *c, const fe *d)
{
	fe e, f, g, h;
	fe_sub(&e, b, a);
	fe_sub(&f, d, c);
	fe_add(&g, d, c);
	fe_add(&h, b, a);
	ge_set_efgh(r, &e, &f, &g, &h);
}

/* r = 2p ("dbl-2008-hwcd" with a = -1). */
static void ge_double(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h, t;
	fe_sq(&a, &p->x);
	fe_sq(&b, &p->y);
	fe_sq(&c, &p->z);
	fe_add(&c, &c, &c);
	fe_add(&h, &a, &b);
	fe_add(&t, &p->x, &p->y);
	fe_sq(&t, &t);
	fe_sub(&e, &h, &t);
	fe_sub(&g, &a, &b);
	fe_add(&f, &c, &g);
	ge_set_efgh(r, &e, &f, &g, &h);
}

/* r = p + q for an affine q in table form ("madd-2008-hwcd-3"). */
static void ge_add_niels(struct ge *r, const struct ge *p, const struct ge_niels *q)
{
	fe a, b, c, d;
	fe_sub(&a, &p->y, &p->x);
	fe_mul(&a, &a, &q->ymx);
	fe_add(&b, &p->y, &p->x);
	fe_mul(&b, &b, &q->ypx);
	fe_mul(&c, &p->t, &q->xy2d);
	fe_add(&d, &p->z, &p->z);
	ge_add_abcd(r, &a, &b, &c, &d);
}

/* r = p + q for two points in extended form ("add-2008-hwcd-3"); only
 * for building the table, from public points. */
static void ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, t;
	fe_sub(&a, &p->y, &p->x);
	fe_sub(&t, &q->y, &q->x);
	fe_mul(&a, &a, &t);
	fe_add(&b, &p->y, &p->x);
	fe_add(&t, &q->y, &q->x);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->t, &q->t);
	fe_mul(&c, &c, &curve_d2);
	fe_mul(&d, &p->z, &q->z);
	fe_add(&d, &d, &d);
	ge_add_abcd(r, &a, &b, &c, &d);
}

/* The table, with every point made affine by one shared inversion
 * (Montgomery's trick). */
static void table_build(void)
{
	enum { N = TABLE_ROWS * TABLE_COLS };
	struct ge_niels(*table)[TABLE_COLS] = calloc(TABLE_ROWS, sizeof *table);
	struct ge *pts = calloc(N, sizeof *pts);
	fe *prefix = calloc(N, sizeof *prefix);
	if (!table || !pts || !prefix) {
		free(table);
		free(pts);
		free(prefix);
		return;
	}
	fe d, n;
	fe_set_small(&n, 121666);
	fe_invert(&n, &n);
	fe_set_small(&d, 121665);
	fe_neg(&d, &d);
	fe_mul(&d, &d, &n); /* d = -121665/121666 */
	fe_add(&curve_d2, &d, &d);

	struct ge row; /* 256^r·B */
	fe_frombytes(&row.x, base_x);
	fe_frombytes(&row.y, base_y);
	fe_set_small(&row.z, 1);
	fe_mul(&row.t, &row.x, &row.y);
	for (int r = 0; r < TABLE_ROWS; r++) {
		struct ge *m = &pts[r * TABLE_COLS];
		m[0] = row;
		ge_double(&m[1], &row);
		for (int c = 2; c < TABLE_COLS; c++)
			ge_add(&m[c], &m[c - 1], &row);
		ge_double(&row, &m[TABLE_COLS - 1]); /* 16·row */
		for (int i = 0; i < 4; i++)
			ge_double(&row, &row); /* 256·row */
	}
	/* prefix[i] = z0·z1·…·zi; one inversion, then each 1/zi. */
	prefix[0] = pts[0].z;
	for (int i = 1; i < N; i++)
		fe_mul(&prefix[i], &prefix[i - 1], &pts[i].z);
	fe inv;
	fe_invert(&inv, &prefix[N - 1]);
	for (int i = N - 1; i >= 0; i--) {
		fe zinv, x, y;
		if (i > 0)
			fe_mul(&zinv, &inv, &prefix[i - 1]);
		else
			zinv = inv;
		fe_mul(&inv, &inv, &pts[i].z);
		fe_mul(&x, &pts[i].x, &zinv);
		fe_mul(&y, &pts[i].y, &zinv);
		struct ge_niels *e = &table[i / TABLE_COLS][i % TABLE_COLS];
		fe_add(&e->ypx, &y, &x);
		fe_sub(&e->ymx, &y, &x);
		fe_mul(&e->xy2d, &x, &y);
		fe_mul(&e->xy2d, &e->xy2d, &curve_d2);
	}
	free(pts);
	free(prefix);
	base_table = table;
}

bool x25519_init(void)
{
	pthread_once(&table_once, table_build);
	return base_table != NULL;
}

/* 1 when a == b, else 0, without a branch. */
static uint64_t equal_u8(uint8_t a, uint8_t b)
{
	return ((uint64_t)(a ^ b) - 1) >> 63;
}

/* t = digit·256^row·B for a digit in -8..8, reading the whole row: every
 * entry is and-ed with a mask that is all ones for the one wanted. */
static void table_select(struct ge_niels *t, int row, int8_t digit)
{
	uint8_t negative = (uint8_t)digit >> 7;
	uint8_t magnitude = (uint8_t)(digit - 2 * (-(int)negative & digit));
	/* Two words at a time: the compiler's vector extension, SSE2 on x86-64. */
	typedef uint64_t word2 __attribute__((vector_size(16)));
	enum { PAIRS = sizeof(struct ge_niels) / sizeof(word2) };
	word2 acc[PAIRS] = {{0}};
	for (int c = 0; c < TABLE_COLS; c++) {
		uint64_t m = 0 - equal_u8(magnitude, (uint8_t)(c + 1));
		word2 mask = {m, m}, w;
		const unsigned char *entry = (const unsigned char *)&base_table[row][c];
		for (int i = 0; i < PAIRS; i++) {
			memcpy(&w, entry + i * sizeof w, sizeof w);
			acc[i] |= mask & w;
		}
	}
	memcpy(t, acc, sizeof *t);
	/* Digit 0: the neutral point (0, 1), that is (1, 1, 0). */
	uint64_t zero = equal_u8(magnitude, 0);
	t->ypx.v[0] |= zero;
	t->ymx.v[0] |= zero;
	/* -(x, y) = (-x, y): swap y+x with y-x, negate 2dxy. */
	struct ge_niels neg = {.ypx = t->ymx, .ymx = t->ypx};
	fe_neg(&neg.xy2d, &t->xy2d);
	fe_cmov(&t->ypx, &neg.ypx, negative);
	fe_cmov(&t->ymx, &neg.ymx, negative);
	fe_cmov(&t->xy2d, &neg.xy2d, negative);
}

/* h = clamp(priv)·B on the Edwards curve, from the table. */
static void base_multiple(struct ge *h, const uint8_t priv[X25519_KEY_LEN])
{
	uint8_t k[32];
	clamp(k, priv);
	/* k as 64 signed digits in -8..8: k = sum digit[i]·16^i. The clamped
	 * top bit is 0, so the last carry fits. */
	int8_t digit[64];
	for (int i = 0; i < 32; i++) {
		digit[2 * i] = (int8_t)(k[i] & 15);
		digit[2 * i + 1] = (int8_t)(k[i] >> 4);
	}
	int8_t carry = 0;
	for (int i = 0; i < 63; i++) {
		digit[i] = (int8_t)(digit[i] + carry);
		carry = (int8_t)((digit[i] + 8) >> 4);
		digit[i] = (int8_t)(digit[i] - carry * 16);
	}
	digit[63] = (int8_t)(digit[63] + carry);

	/* Odd digits first (each row is 256^r = 16^(2r)), times 16, then the
	 * even ones. */
	fe_set_small(&h->x, 0);
	fe_set_small(&h->y, 1);
	fe_set_small(&h->z, 1);
	fe_set_small(&h->t, 0);
	struct ge_niels t;
	for (int i = 1; i < 64; i += 2) {
		table_select(&t, i / 2, digit[i]);
		ge_add_niels(h, h, &t);
	}
	for (int i = 0; i < 4; i++)
		ge_double(h, h);
	for (int i = 0; i < 64; i += 2) {
		table_select(&t, i / 2, digit[i]);
		ge_add_niels(h, h, &t);
	}
	/* What the private key went through (explicit_bzero: a plain memset
	 * of memory about to go out of scope may be left out). */
	explicit_bzero(k, sizeof k);
	explicit_bzero(digit, sizeof digit);
	explicit_bzero(&t, sizeof t);
}

bool x25519_public_keys(uint8_t (*pub)[X25519_KEY_LEN], const uint8_t (*priv)[X25519_KEY_LEN], size_t n)
{
	if (n == 0 || n > X25519_BATCH_MAX || !x25519_init())
		return false;
	/* u = (1 + y) / (1 - y) = (Z + Y) / (Z - Y) for each point. Z - Y is
	 * never 0: no clamped scalar is a multiple of the base point's order.
	 * prefix[i] = the product of the denominators up to i; one inversion
	 * of the last gives each denominator's inverse, walking back. */
	struct ge h[X25519_BATCH_MAX];
	fe den[X25519_BATCH_MAX], prefix[X25519_BATCH_MAX], inv, one_over, num;
	for (size_t i = 0; i < n; i++) {
		base_multiple(&h[i], priv[i]);
		fe_sub(&den[i], &h[i].z, &h[i].y);
		if (i == 0)
			prefix[0] = den[0];
		else
			fe_mul(&prefix[i], &prefix[i - 1], &den[i]);
	}
	fe_invert(&inv, &prefix[n - 1]); /* 1 / (den_0 ... den_n-1) */
	for (size_t i = n; i-- > 0;) {
		if (i > 0) {
			fe_mul(&one_over, &inv, &prefix[i - 1]); /* 1 / den_i */
			fe_mul(&inv, &inv, &den[i]);             /* 1 / (den_0 ... den_i-1) */
		} else {
			one_over = inv;
		}
		fe_add(&num, &h[i].z, &h[i].y);
		fe_mul(&num, &num, &one_over);
		fe_tobytes(pub[i], &num);
	}
	explicit_bzero(h, sizeof h);
	explicit_bzero(den, sizeof den);
	explicit_bzero(prefix, sizeof prefix);
	explicit_bzero(&inv, sizeof inv);
	explicit_bzero(&one_over, sizeof one_over);
	explicit_bzero(&num, sizeof num);
	return true;
}

bool x25519_public_key(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN])
{
	return x25519_public_keys((uint8_t(*)[X25519_KEY_LEN])pub, (const uint8_t(*)[X25519_KEY_LEN])priv, 1);
}
