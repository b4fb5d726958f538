// TLS for the interop programs, through libbinder's own RpcTransportTls
// (built against Debian's android-libboringssl-dev when build-libbinder.sh
// finds it; KV_RPC_TLS is then defined). Our certificate and key come from
// PEM files (an RpcAuth), and the peer must present the certificate of a
// third PEM file (an RpcCertificateVerifier comparing the leaf, as
// ubinder-rpc's --tls-peer-cert does).
#pragma once

#include <binder/RpcTransport.h>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#ifdef KV_RPC_TLS
#include <binder/RpcAuth.h>
#include <binder/RpcCertificateVerifier.h>
#include <binder/RpcTlsUtils.h>
#include <binder/RpcTransportTls.h>

namespace kvtls
{

static std::vector<uint8_t> slurp(const char *path)
{
	std::vector<uint8_t> data;
	FILE *f = fopen(path, "rb");
	int c;

	if (!f)
		return data;
	while ((c = fgetc(f)) != EOF && data.size() < (1u << 20))
		data.push_back((uint8_t)c);
	fclose(f);
	return data;
}

class FileAuth : public android::RpcAuth
{
      public:
	bssl::UniquePtr<X509> cert;
	bssl::UniquePtr<EVP_PKEY> key;
	android::status_t configure(SSL_CTX *ctx) override
	{
		return SSL_CTX_use_PrivateKey(ctx, key.get()) &&
				       SSL_CTX_use_certificate(ctx, cert.get())
			       ? android::OK
			       : android::INVALID_OPERATION;
	}
};

class PinnedVerifier : public android::RpcCertificateVerifier
{
      public:
	bssl::UniquePtr<X509> peer;
	android::status_t verify(const SSL *ssl, uint8_t *alert) override
	{
		bssl::UniquePtr<X509> got(SSL_get_peer_certificate(ssl));
		if (got && X509_cmp(got.get(), peer.get()) == 0)
			return android::OK;
		fprintf(stderr, "tls: the peer's certificate is not the pinned one\n");
		*alert = SSL_AD_CERTIFICATE_UNKNOWN;
		return android::PERMISSION_DENIED;
	}
};

// The TLS factory for CERT KEY PEER_CERT, or null after printing why.
static std::unique_ptr<android::RpcTransportCtxFactory> factory(const char *cert, const char *key,
								const char *peer)
{
	using android::RpcCertificateFormat;
	auto auth = std::make_unique<FileAuth>();
	auto verifier = std::make_shared<PinnedVerifier>();

	auth->cert = android::deserializeCertificate(slurp(cert), RpcCertificateFormat::PEM);
	auth->key =
		android::deserializeUnencryptedPrivatekey(slurp(key), android::RpcKeyFormat::PEM);
	verifier->peer = android::deserializeCertificate(slurp(peer), RpcCertificateFormat::PEM);
	if (!auth->cert || !auth->key || !verifier->peer) {
		fprintf(stderr, "tls: cannot read %s, %s or %s (PEM)\n", cert, key, peer);
		return nullptr;
	}
	return android::RpcTransportCtxFactoryTls::make(verifier, std::move(auth));
}

} // namespace kvtls
#endif

// Takes "--tls CERT KEY PEER_CERT" off the front of argv: the factory, or
// null (no TLS, or an error: *bad is set, after a message).
static std::unique_ptr<android::RpcTransportCtxFactory> kv_tls_option(int *argc, char ***argv,
								      bool *bad)
{
	*bad = false;
	if (*argc < 2 || std::string((*argv)[1]) != "--tls")
		return nullptr;
	if (*argc < 5) {
		*bad = true;
		return nullptr;
	}
#ifdef KV_RPC_TLS
	auto f = kvtls::factory((*argv)[2], (*argv)[3], (*argv)[4]);
	*bad = !f;
	(*argv)[4] = (*argv)[0];
	*argv += 4;
	*argc -= 4;
	return f;
#else
	fprintf(stderr,
		"built without TLS (build-libbinder.sh found no android-libboringssl-dev)\n");
	*bad = true;
	return nullptr;
#endif
}
