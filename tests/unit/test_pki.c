/*
 * Unit tests of the pki module's pure parts: --start parsing and UTC
 * arithmetic, pin computation and formatting, option parsing and its usage
 * errors, and the all-or-nothing output writer (in a temporary directory).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "pki/pki_cmds.h"
#include "pki/pki_err.h"
#include "pki/pki_files.h"
#include "pki/pki_opts.h"
#include "pki/pki_pin.h"
#include "pki/pki_time.h"
#include "unit.h"

/* A self-signed server certificate made by `pullgate pki issue server
 * --self-signed --cn pin.example --org Example --dns pin.example --ip
 * 127.0.0.1 --ip ::1 --start 2025-01-01 --days 3650`; its fingerprints were
 * computed with the openssl command line. */
static const char pki_test_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB9jCCAZugAwIBAgIQN2S6XTsrvp3L5rB74ZGf7DAKBggqhkjOPQQDAjAoMRAw\n"
	"DgYDVQQKDAdFeGFtcGxlMRQwEgYDVQQDDAtwaW4uZXhhbXBsZTAeFw0yNTAxMDEw\n"
	"MDAwMDBaFw0zNDEyMzAwMDAwMDBaMCgxEDAOBgNVBAoMB0V4YW1wbGUxFDASBgNV\n"
	"BAMMC3Bpbi5leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUzvtLDpJ\n"
	"i7fLwOLN57OyGaiW16Ugbkt7t9rjTed6sfLnngTPxm0KEPowtnTqVWsv8qBS9Msv\n"
	"82X+9WHefLbC06OBpjCBozAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAT\n"
	"BgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUyNBQ3eQNjrdGNgg/4gWgjfXj\n"
	"8AgwHwYDVR0jBBgwFoAUyNBQ3eQNjrdGNgg/4gWgjfXj8AgwLgYDVR0RBCcwJYIL\n"
	"cGluLmV4YW1wbGWHBH8AAAGHEAAAAAAAAAAAAAAAAAAAAAEwCgYIKoZIzj0EAwID\n"
	"SQAwRgIhAMDE9hLfxIUu/xP06KLfv9vMj/ibC8uTG5S8+ZYPrjtKAiEAtRkQqD0U\n"
	"IFFy54uhYZDM6ULQt9Jskvvvj1YIsYyDSR4=\n"
	"-----END CERTIFICATE-----\n";

#define PKI_TEST_NOW ((time_t)1748736000) /* 2025-06-01T00:00:00Z */

static X509 *pki_test_cert(void)
{
	BIO *b = BIO_new_mem_buf(pki_test_cert_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

/* Parses a NULL-terminated argument list as pki_main would hand it over. */
static enum pki_opts_result pki_test_parse(struct pki_opts *o, char *err,
					   size_t errlen, const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	err[0] = '\0';
	return pki_opts_parse(o, argc, (char **)args, PKI_TEST_NOW, err, errlen);
}

/* Expects a usage error whose message contains want. */
static void pki_test_usage(const char *want, const char **args)
{
	struct pki_opts o;
	char err[PKI_ERR_LEN];

	CHECK_EQ_INT(pki_test_parse(&o, err, sizeof err, args), PKI_OPTS_USAGE);
	if (!strstr(err, want)) {
		char msg[PKI_ERR_LEN + 64];
		snprintf(msg, sizeof msg, "error \"%s\" lacks \"%s\"", err, want);
		unit_fail(__FILE__, __LINE__, msg);
	}
}

TEST(pki_time_civil)
{
	CHECK_EQ_INT(pki_time_from_civil(1970, 1, 1, 0, 0, 0), 0);
	CHECK_EQ_INT(pki_time_from_civil(2000, 1, 1, 0, 0, 0), 946684800);
	CHECK_EQ_INT(pki_time_from_civil(2038, 1, 19, 3, 14, 8), 2147483648LL);
	CHECK_EQ_INT(pki_time_from_civil(2024, 2, 29, 12, 0, 0), 1709208000);
	CHECK_EQ_INT(pki_time_from_civil(1969, 12, 31, 23, 59, 59), -1);
}

TEST(pki_time_when_relative)
{
	time_t now = PKI_TEST_NOW, t = 0;

	CHECK(pki_time_parse_when("now", now, &t) == 0 && t == now);
	CHECK(pki_time_parse_when("-30d", now, &t) == 0 && t == now - 30 * 86400);
	CHECK(pki_time_parse_when("+10d", now, &t) == 0 && t == now + 10 * 86400);
	CHECK(pki_time_parse_when("-2h", now, &t) == 0 && t == now - 7200);
	CHECK(pki_time_parse_when("+90m", now, &t) == 0 && t == now + 5400);
	CHECK(pki_time_parse_when("-45s", now, &t) == 0 && t == now - 45);
	CHECK(pki_time_parse_when("+0s", now, &t) == 0 && t == now);
}

TEST(pki_time_when_absolute)
{
	time_t t = 0;

	CHECK(pki_time_parse_when("2025-06-01", 0, &t) == 0 && t == PKI_TEST_NOW);
	CHECK(pki_time_parse_when("2025-06-01T00:00:01Z", 0, &t) == 0 &&
	      t == PKI_TEST_NOW + 1);
	CHECK(pki_time_parse_when("2024-02-29", 0, &t) == 0);
	CHECK(pki_time_parse_when("2000-02-29T23:59:59Z", 0, &t) == 0 &&
	      t == 951868799);
}

TEST(pki_time_when_rejects)
{
	static const char *const bad[] = {
		"", "Now", "10d", "+d", "-", "+10", "+10x", "+10dd", "+ 10d",
		"+99999999999999999999d", "+100000d",
		"2024-1-02", "2024-01-02T03:04:05", "2024-01-02 03:04:05Z",
		"2024-13-01", "2024-00-10", "2023-02-29", "1900-02-28", "2024-04-31",
		"2024-01-02T24:00:00Z", "2024-01-02T23:60:00Z", "2024-01-02T23:00:60Z",
		"2024-01-02x", "yesterday",
	};
	time_t t = 12345;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pki_time_parse_when(bad[i], PKI_TEST_NOW, &t) != -1) {
			char msg[128];
			snprintf(msg, sizeof msg, "accepted --start \"%s\"", bad[i]);
			unit_fail(__FILE__, __LINE__, msg);
		}
	}
	CHECK_EQ_INT(t, 12345);
}

TEST(pki_time_days_left_floors)
{
	CHECK_EQ_INT(pki_time_days_left(1000 + 10 * 86400, 1000), 10);
	CHECK_EQ_INT(pki_time_days_left(1000 + 86399, 1000), 0);
	CHECK_EQ_INT(pki_time_days_left(1000, 1000), 0);
	CHECK_EQ_INT(pki_time_days_left(999, 1000), -1);
	CHECK_EQ_INT(pki_time_days_left(1000 - 86400, 1000), -1);
	CHECK_EQ_INT(pki_time_days_left(1000 - 86401, 1000), -2);
}

TEST(pki_time_format_utc)
{
	char buf[PKI_TIME_STR_LEN];

	pki_time_format(PKI_TEST_NOW + 3661, buf);
	CHECK_STR(buf, "2025-06-01T01:01:01Z");
	pki_time_format(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
}

TEST(pki_pin_formats)
{
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	static const unsigned char md[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	char hex[PKI_HEX_COLON_LEN], b64[PKI_B64_LEN], small[6];

	pki_hex(md, sizeof md, false, '\0', hex, sizeof hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	pki_hex(md, 3, true, ':', hex, sizeof hex);
	CHECK_STR(hex, "BA:78:16");
	pki_hex(md, sizeof md, true, ':', small, sizeof small);
	CHECK_STR(small, "BA:78");
	pki_base64(md, sizeof md, b64, sizeof b64);
	CHECK_STR(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
	pki_base64(md, sizeof md, small, sizeof small);
	CHECK_STR(small, "");
}

TEST(pki_pin_of_certificate)
{
	X509 *x = pki_test_cert();
	unsigned char md[PKI_SHA256_LEN];
	char hex[PKI_HEX_COLON_LEN], b64[PKI_B64_LEN];

	REQUIRE(x);
	CHECK(pki_pin_spki_sha256(x, md) == 0);
	pki_base64(md, sizeof md, b64, sizeof b64);
	CHECK_STR(b64, "abgiYvj6V25tA88fqJqIJ/NT/qrwldw9/dBRSTS+kpQ=");
	pki_hex(md, sizeof md, false, '\0', hex, sizeof hex);
	CHECK_STR(hex, "69b82262f8fa576e6d03cf1fa89a8827f353feaaf095dc3dfdd0514934be9294");
	CHECK(pki_pin_cert_sha256(x, md) == 0);
	pki_hex(md, sizeof md, true, ':', hex, sizeof hex);
	CHECK_STR(hex, "38:BB:94:99:58:F1:37:21:4D:44:1B:F5:78:2A:7B:03:12:36:0B:B1:"
		       "6C:46:12:2E:1D:B3:E1:6D:7D:84:04:60");
	X509_free(x);
}

/* A fresh temporary directory; the caller removes it. */
static int pki_test_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/pullgate-pki-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

TEST(pki_inspect_prints_fixed_fields)
{
	static const char want[] =
		"subject: CN=pin.example,O=Example\n"
		"issuer: CN=pin.example,O=Example\n"
		"serial: 3764BA5D3B2BBE9DCBE6B07BE1919FEC\n"
		"not_before: 2025-01-01T00:00:00Z\n"
		"not_after: 2034-12-30T00:00:00Z\n"
		"days_left: 3499\n"
		"status: valid\n"
		"key: ecdsa-p256\n"
		"ca: false\n"
		"key_usage: digitalSignature\n"
		"extended_key_usage: serverAuth\n"
		"san: DNS:pin.example,IP:127.0.0.1,IP:::1\n"
		"sha256: 38:BB:94:99:58:F1:37:21:4D:44:1B:F5:78:2A:7B:03:12:36:0B:B1:"
		"6C:46:12:2E:1D:B3:E1:6D:7D:84:04:60\n"
		"spki_sha256: abgiYvj6V25tA88fqJqIJ/NT/qrwldw9/dBRSTS+kpQ=\n"
		"spki_sha256_hex: 69b82262f8fa576e6d03cf1fa89a8827f353feaaf095dc3dfdd0514934be9294\n";
	char dir[64], path[96], err[PKI_ERR_LEN];
	const char *files[1] = { path };
	struct pki_opts o = { .cmd = PKI_CMD_INSPECT, .files = files, .n_files = 1 };
	struct pki_output out = { path, pki_test_cert_pem, sizeof pki_test_cert_pem - 1, 0644 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	REQUIRE(pki_test_tmpdir(dir, sizeof dir) == 0);
	snprintf(path, sizeof path, "%s/c.pem", dir);
	REQUIRE(pki_files_write(&out, 1, false, err, sizeof err) == 0);
	f = open_memstream(&buf, &len);
	REQUIRE(f);
	CHECK(pki_cmd_inspect(&o, PKI_TEST_NOW, f, err, sizeof err) == 0);
	fclose(f);
	CHECK_STR(buf, want);
	free(buf);

	/* Before notBefore and after notAfter. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	REQUIRE(f);
	CHECK(pki_cmd_inspect(&o, PKI_TEST_NOW - 365 * 86400, f, err, sizeof err) == 0);
	fclose(f);
	CHECK(buf && strstr(buf, "status: not yet valid\n"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	REQUIRE(f);
	CHECK(pki_cmd_inspect(&o, (time_t)pki_time_from_civil(2035, 1, 1, 0, 0, 0), f,
			      err, sizeof err) == 0);
	fclose(f);
	CHECK(buf && strstr(buf, "days_left: -2\nstatus: expired\n"));
	free(buf);
	unlink(path);
	rmdir(dir);
}

TEST(pki_opts_issue_full)
{
	const char *args[] = {
		"issue", "server", "--cert", "s.pem", "--key=s.key", "--cn", "origin",
		"--ca-cert", "ca.pem", "--ca-key", "ca.key", "--dns", "a.example",
		"--dns", "*.b.example", "--ip", "::1", "--key-type", "rsa3072",
		"--days", "30", "--start", "-2h", "--chain", "--force", NULL,
	};
	struct pki_opts o;
	char err[PKI_ERR_LEN];

	REQUIRE(pki_test_parse(&o, err, sizeof err, args) == PKI_OPTS_OK);
	CHECK_EQ_INT(o.cmd, PKI_CMD_ISSUE);
	CHECK_EQ_INT(o.leaf, PKI_LEAF_SERVER);
	CHECK_STR(o.cert, "s.pem");
	CHECK_STR(o.key, "s.key");
	CHECK_STR(o.cn, "origin");
	CHECK_STR(o.ca_cert, "ca.pem");
	CHECK_STR(o.ca_key, "ca.key");
	CHECK_EQ_INT(o.n_dns, 2);
	CHECK_STR(o.dns[1], "*.b.example");
	CHECK_EQ_INT(o.n_ips, 1);
	CHECK_STR(o.ips[0], "::1");
	CHECK_EQ_INT(o.key_type, PKI_KEY_RSA3072);
	CHECK_EQ_INT(o.days, 30);
	CHECK_EQ_INT(o.not_before, PKI_TEST_NOW - 7200);
	CHECK(o.chain && o.force && !o.self_signed);
	CHECK(o.org == NULL);
	pki_opts_free(&o);
}

TEST(pki_opts_defaults)
{
	const char *ca[] = { "ca", "--cert", "c", "--key", "k", "--cn", "CA", NULL };
	const char *leaf[] = { "issue", "client", "--self-signed", "--cert", "c",
			       "--key", "k", "--cn", "edge", NULL };
	const char *crl[] = { "crl", "--ca-cert", "c", "--ca-key", "k", "--crl", "l", NULL };
	const char *rev[] = { "revoke", "--ca-cert", "c", "--ca-key", "k", "--crl",
			      "l", "a.pem", "--", "--odd.pem", NULL };
	struct pki_opts o;
	char err[PKI_ERR_LEN];

	REQUIRE(pki_test_parse(&o, err, sizeof err, ca) == PKI_OPTS_OK);
	CHECK_EQ_INT(o.days, 3650);
	CHECK_EQ_INT(o.key_type, PKI_KEY_ECDSA_P256);
	CHECK_EQ_INT(o.not_before, PKI_TEST_NOW);
	CHECK(!o.force);
	pki_opts_free(&o);
	REQUIRE(pki_test_parse(&o, err, sizeof err, leaf) == PKI_OPTS_OK);
	CHECK_EQ_INT(o.days, 365);
	CHECK_EQ_INT(o.leaf, PKI_LEAF_CLIENT);
	CHECK(o.self_signed);
	pki_opts_free(&o);
	REQUIRE(pki_test_parse(&o, err, sizeof err, crl) == PKI_OPTS_OK);
	CHECK_EQ_INT(o.days, 30);
	CHECK_EQ_INT(o.n_files, 0);
	pki_opts_free(&o);
	REQUIRE(pki_test_parse(&o, err, sizeof err, rev) == PKI_OPTS_OK);
	CHECK_EQ_INT(o.n_files, 2);
	CHECK_STR(o.files[1], "--odd.pem");
	pki_opts_free(&o);
}

TEST(pki_opts_help)
{
	const char *a[] = { "issue", "client", "--help", NULL };
	const char *b[] = { "inspect", "-h", NULL };
	struct pki_opts o;
	char err[PKI_ERR_LEN];

	CHECK_EQ_INT(pki_test_parse(&o, err, sizeof err, a), PKI_OPTS_HELP);
	CHECK_EQ_INT(pki_test_parse(&o, err, sizeof err, b), PKI_OPTS_HELP);
}

TEST(pki_opts_usage_errors)
{
	pki_test_usage("unknown command", (const char *[]){ "sign", NULL });
	pki_test_usage("--cn is required",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", NULL });
	pki_test_usage("--cert is required",
		       (const char *[]){ "ca", "--key", "k", "--cn", "x", NULL });
	pki_test_usage("unknown option --dns",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--dns", "a", NULL });
	pki_test_usage("unknown option -f",
		       (const char *[]){ "ca", "-f", NULL });
	pki_test_usage("--cn needs a value",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", NULL });
	pki_test_usage("--cn needs a value",
		       (const char *[]){ "ca", "--cn", "--cert", "c", "--key", "k", NULL });
	pki_test_usage("--cn needs a value",
		       (const char *[]){ "ca", "--cn=", "--cert", "c", "--key", "k", NULL });
	pki_test_usage("--cn given twice",
		       (const char *[]){ "ca", "--cn", "a", "--cn", "b", NULL });
	pki_test_usage("--force takes no value",
		       (const char *[]){ "ca", "--force=yes", NULL });
	pki_test_usage("--issuer-cert and --issuer-key go together",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--issuer-cert", "i", NULL });
	pki_test_usage("--key-type dsa",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--key-type", "dsa", NULL });
	pki_test_usage("--days 0",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--days", "0", NULL });
	pki_test_usage("--days 12x",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--days", "12x", NULL });
	pki_test_usage("--days 36501",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--days", "36501", NULL });
	pki_test_usage("--start tomorrow",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "--start", "tomorrow", NULL });
	pki_test_usage("--cert and --key name the same file",
		       (const char *[]){ "ca", "--cert", "c", "--key", "c", "--cn", "x", NULL });
	pki_test_usage("longer than 64",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn",
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
					 NULL });
	pki_test_usage("unexpected argument extra",
		       (const char *[]){ "ca", "--cert", "c", "--key", "k", "--cn", "x",
					 "extra", NULL });
}

TEST(pki_opts_issue_usage_errors)
{
	pki_test_usage("say client or server",
		       (const char *[]){ "issue", "--cert", "c", "--key", "k", "--cn", "x",
					 "--self-signed", NULL });
	pki_test_usage("peer: expected client or server",
		       (const char *[]){ "issue", "peer", "--cert", "c", "--key", "k",
					 "--cn", "x", "--self-signed", NULL });
	pki_test_usage("give --ca-cert and --ca-key, or --self-signed",
		       (const char *[]){ "issue", "client", "--cert", "c", "--key", "k",
					 "--cn", "x", "--ca-cert", "ca", NULL });
	pki_test_usage("--self-signed excludes",
		       (const char *[]){ "issue", "client", "--cert", "c", "--key", "k",
					 "--cn", "x", "--self-signed", "--ca-cert", "ca",
					 "--ca-key", "cak", NULL });
	pki_test_usage("--chain needs --ca-cert",
		       (const char *[]){ "issue", "client", "--cert", "c", "--key", "k",
					 "--cn", "x", "--self-signed", "--chain", NULL });
	pki_test_usage("--ip 10.0.0.256",
		       (const char *[]){ "issue", "client", "--ip", "10.0.0.256", NULL });
	pki_test_usage("--dns a..b",
		       (const char *[]){ "issue", "client", "--dns", "a..b", NULL });
	pki_test_usage("is not a DNS name",
		       (const char *[]){ "issue", "server", "--cert", "c", "--key", "k",
					 "--cn", "My Origin", "--self-signed", NULL });
	pki_test_usage("unexpected argument more",
		       (const char *[]){ "issue", "client", "more", "--cert", "c", "--key",
					 "k", "--cn", "x", "--self-signed", NULL });
	pki_test_usage("give exactly one FILE", (const char *[]){ "inspect", NULL });
	pki_test_usage("give exactly one FILE",
		       (const char *[]){ "inspect", "a", "b", NULL });
	pki_test_usage("give at least one CERTFILE",
		       (const char *[]){ "revoke", "--ca-cert", "c", "--ca-key", "k",
					 "--crl", "l", NULL });
	pki_test_usage("--crl is required",
		       (const char *[]){ "crl", "--ca-cert", "c", "--ca-key", "k", NULL });
	pki_test_usage("crl: unexpected argument x.pem",
		       (const char *[]){ "crl", "--ca-cert", "c", "--ca-key", "k", "--crl",
					 "l", "x.pem", NULL });
	pki_test_usage("unknown option --force",
		       (const char *[]){ "revoke", "--force", NULL });
}

TEST(pki_opts_dns_names)
{
	CHECK(pki_opts_dns_name_ok("example.com"));
	CHECK(pki_opts_dns_name_ok("*.example.com"));
	CHECK(pki_opts_dns_name_ok("localhost"));
	CHECK(pki_opts_dns_name_ok("_acme.x-1.example"));
	CHECK(!pki_opts_dns_name_ok(""));
	CHECK(!pki_opts_dns_name_ok("*"));
	CHECK(!pki_opts_dns_name_ok("a.*.example"));
	CHECK(!pki_opts_dns_name_ok("example.com."));
	CHECK(!pki_opts_dns_name_ok(".example"));
	CHECK(!pki_opts_dns_name_ok("a b"));
	CHECK(!pki_opts_dns_name_ok("a,b"));
	CHECK(!pki_opts_dns_name_ok(
		"x234567890123456789012345678901234567890123456789012345678901234.example"));
}

static int pki_test_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

TEST(pki_files_all_or_nothing)
{
	char dir[64], a[96], b[96], bad[128], err[PKI_ERR_LEN];
	unsigned char *data;
	size_t len;

	REQUIRE(pki_test_tmpdir(dir, sizeof dir) == 0);
	snprintf(a, sizeof a, "%s/a.key", dir);
	snprintf(b, sizeof b, "%s/b.pem", dir);
	snprintf(bad, sizeof bad, "%s/missing/c.pem", dir);
	struct pki_output two[2] = { { a, "secret", 6, 0600 }, { b, "cert", 4, 0644 } };
	struct pki_output fails[2] = { { a, "x", 1, 0600 }, { bad, "y", 1, 0644 } };

	/* The second output cannot be created: the first is removed again. */
	CHECK(pki_files_write(fails, 2, false, err, sizeof err) == -1);
	CHECK(strstr(err, "missing/c.pem: No such file or directory") != NULL);
	CHECK(!pki_file_exists(a));

	REQUIRE(pki_files_write(two, 2, false, err, sizeof err) == 0);
	CHECK_EQ_INT(pki_test_mode(a), 0600);
	CHECK_EQ_INT(pki_test_mode(b), 0644);

	/* Existing outputs are refused before anything is written. */
	two[0].data = "other";
	two[0].len = 5;
	CHECK(pki_files_write(two, 2, false, err, sizeof err) == -1);
	CHECK(strstr(err, "a.key exists (use --force to overwrite)") != NULL);
	REQUIRE(pki_file_read(a, &data, &len, err, sizeof err) == 0);
	CHECK(len == 6 && memcmp(data, "secret", 6) == 0);
	pki_file_free(data, len);

	/* Replacing keeps the exact modes. */
	CHECK(pki_files_write(two, 2, true, err, sizeof err) == 0);
	REQUIRE(pki_file_read(a, &data, &len, err, sizeof err) == 0);
	CHECK(len == 5 && memcmp(data, "other", 5) == 0);
	pki_file_free(data, len);
	CHECK_EQ_INT(pki_test_mode(a), 0600);
	CHECK_EQ_INT(pki_test_mode(b), 0644);

	/* One path for two outputs. */
	two[1].path = a;
	CHECK(pki_files_write(two, 2, true, err, sizeof err) == -1);
	CHECK(strstr(err, "given for two outputs") != NULL);

	CHECK(pki_file_read(bad, &data, &len, err, sizeof err) == -1);
	CHECK(strstr(err, "c.pem: No such file or directory") != NULL);
	unlink(a);
	unlink(b);
	CHECK(rmdir(dir) == 0);	/* no temporary file left behind */
}
