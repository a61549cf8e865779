/* cache.c - the result cache's keys and signatures: see cache.h. */
#include "cache/cache.h"

#include <stdint.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

/* Bump when anything that goes into a key changes meaning. */
#define KEY_VERSION "squad-cache-key-v1"

static void sha_add(mbedtls_sha256_context *ctx, const void *data, size_t len)
{
	mbedtls_sha256_update_ret(ctx, data, len);
}

/* Field separator: a NUL then a tag byte, so no field's text can be
 * read as another's boundary (fields themselves may hold NULs, which is
 * why each is length-prefixed as well). */
static void sha_field(mbedtls_sha256_context *ctx, char tag, const void *data, size_t len)
{
	unsigned char head[10];

	head[0] = 0;
	head[1] = (unsigned char)tag;
	for (int i = 0; i < 8; i++)
		head[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	sha_add(ctx, head, sizeof(head));
	sha_add(ctx, data, len);
}

/* `describe` with each occurrence of `root` (with its trailing '/' when
 * there, else followed by '/' or the end of a field) replaced by the
 * token. A plain memmem scan: the text may hold NULs. */
static void portable_text(const char *text, size_t len, const char *root,
			  struct strbuf *out)
{
	size_t rlen = root ? strlen(root) : 0;
	size_t i = 0;

	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--; /* compare without the slash: "/a/b" also matches "/a/b/x" */
	if (rlen <= 1) { /* "" or "/": replacing it would mangle every path */
		strbuf_add(out, text, len);
		return;
	}
	while (i < len) {
		const char *hit = memmem(text + i, len - i, root, rlen);
		size_t at, end;

		if (!hit) {
			strbuf_add(out, text + i, len - i);
			break;
		}
		at = (size_t)(hit - text);
		end = at + rlen;
		strbuf_add(out, text + i, at - i);
		/* only a whole path component: /work/a is not in /work/ab */
		if (end == len || text[end] == '/' || text[end] == '\0' ||
		    text[end] == ' ' || text[end] == '"' || text[end] == '\'' ||
		    text[end] == ':' || text[end] == '=') {
			strbuf_addstr(out, CACHE_ROOT_TOKEN);
		} else {
			strbuf_add(out, text + at, rlen);
		}
		i = end;
	}
}

void cache_key(const char *describe, size_t describe_len, const char *root,
	       const char *inputs, const char *const *deps, size_t nr_deps,
	       char key[CACHE_KEY_HEX + 1])
{
	static const char hexdigits[] = "0123456789abcdef";
	mbedtls_sha256_context ctx;
	struct strbuf text = STRBUF_INIT;
	unsigned char sum[32];

	portable_text(describe, describe_len, root, &text);
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);
	sha_field(&ctx, 'v', KEY_VERSION, strlen(KEY_VERSION));
	sha_field(&ctx, 'd', text.buf ? text.buf : "", text.len);
	sha_field(&ctx, 'i', inputs ? inputs : "", inputs ? strlen(inputs) : 0);
	for (size_t i = 0; i < nr_deps; i++)
		sha_field(&ctx, 'n', deps[i], strlen(deps[i]));
	mbedtls_sha256_finish_ret(&ctx, sum);
	mbedtls_sha256_free(&ctx);
	strbuf_release(&text);
	for (size_t i = 0; i < sizeof(sum); i++) {
		key[2 * i] = hexdigits[sum[i] >> 4];
		key[2 * i + 1] = hexdigits[sum[i] & 15];
	}
	key[CACHE_KEY_HEX] = '\0';
}

/* HMAC-SHA256(secret, body || hash || team) into mac. Returns 0 or -1. */
static int artifact_mac(const unsigned char *secret, size_t secret_len, const char *hash,
			const char *team, const void *body, size_t body_len,
			unsigned char mac[32])
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	int rc;

	if (!info || !secret || !secret_len || !hash)
		return -1;
	mbedtls_md_init(&ctx);
	rc = mbedtls_md_setup(&ctx, info, 1);
	if (!rc)
		rc = mbedtls_md_hmac_starts(&ctx, secret, secret_len);
	if (!rc && body_len)
		rc = mbedtls_md_hmac_update(&ctx, body, body_len);
	if (!rc)
		rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)hash, strlen(hash));
	if (!rc && team)
		rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)team, strlen(team));
	if (!rc)
		rc = mbedtls_md_hmac_finish(&ctx, mac);
	mbedtls_md_free(&ctx);
	return rc ? -1 : 0;
}

char *cache_sign(const unsigned char *secret, size_t secret_len, const char *hash,
		 const char *team, const void *body, size_t body_len)
{
	unsigned char mac[32];
	unsigned char out[64]; /* base64 of 32 bytes: 44 + NUL */
	size_t olen = 0;

	if (artifact_mac(secret, secret_len, hash, team, body, body_len, mac) < 0)
		return NULL;
	if (mbedtls_base64_encode(out, sizeof(out), &olen, mac, sizeof(mac)))
		return NULL;
	out[olen] = '\0';
	return xstrdup((const char *)out);
}

bool cache_verify(const unsigned char *secret, size_t secret_len, const char *hash,
		  const char *team, const void *body, size_t body_len, const char *tag)
{
	unsigned char mac[32], got[64];
	size_t glen = 0;
	unsigned char diff = 0;

	if (!tag || strlen(tag) > 60)
		return false;
	if (mbedtls_base64_decode(got, sizeof(got), &glen, (const unsigned char *)tag,
				  strlen(tag)) || glen != sizeof(mac))
		return false;
	if (artifact_mac(secret, secret_len, hash, team, body, body_len, mac) < 0)
		return false;
	/* constant time: a timing oracle must not reveal a tag byte by byte */
	for (size_t i = 0; i < sizeof(mac); i++)
		diff |= (unsigned char)(mac[i] ^ got[i]);
	return diff == 0;
}
