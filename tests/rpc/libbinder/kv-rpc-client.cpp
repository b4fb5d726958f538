// An RPC Binder client built on Android 14's real libbinder (RpcSession):
// calls the example IKeyValue service that `ubinder-rpc export` serves,
// and hands it a watcher (a local BBinder) that the service calls back on
// the session's incoming connection.
// Usage: kv-rpc-client [--tls CERT KEY PEER_CERT] unix:PATH | tcp:HOST:PORT
#include <binder/Binder.h>
#include <binder/IBinder.h>
#include <binder/Parcel.h>
#include <binder/RpcSession.h>
#include <utils/String16.h>
#include <utils/String8.h>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <cstring>
#include <string>

#include "kv-rpc-tls.h"

using namespace android;

static const String16 kToken(u"org.ubinder.example.IKeyValue");

// IKeyValueWatcher: onChange(key, value), oneway, code 1. An RPC parcel's
// interface token is the descriptor's String16 alone.
class Watcher : public BBinder {
public:
	std::mutex lock;
	std::condition_variable changed;
	std::string last;

protected:
	status_t onTransact(uint32_t code, const Parcel &data, Parcel *reply, uint32_t flags) override
	{
		(void)reply;
		(void)flags;
		if (code != 1)
			return UNKNOWN_TRANSACTION;
		String16 token = data.readString16();
		String8 key(data.readString16()), value(data.readString16());
		if (token != String16(u"org.ubinder.example.IKeyValueWatcher"))
			return BAD_TYPE;
		std::lock_guard<std::mutex> g(lock);
		last = std::string(key.c_str()) + "=" + value.c_str();
		changed.notify_all();
		return OK;
	}
};

static status_t call(const sp<IBinder> &b, uint32_t code, Parcel *data, Parcel *reply,
		     uint32_t flags = 0)
{
	return b->transact(code, *data, reply, flags);
}

static void request(Parcel &p, const sp<IBinder> &b)
{
	p.markForBinder(b);
	p.writeInterfaceToken(kToken);
}

int main(int argc, char **argv)
{
	bool bad;
	auto tls = kv_tls_option(&argc, &argv, &bad);
	if (bad || argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: kv-rpc-client [--tls CERT KEY PEER_CERT] unix:PATH|tcp:HOST:PORT\n");
		return 2;
	}
	std::string addr = argv[1];
	sp<RpcSession> session = tls ? RpcSession::make(std::move(tls)) : RpcSession::make();
	status_t st;
	session->setMaxIncomingThreads(1); // the watcher's callbacks come in on it
	if (addr.rfind("unix:", 0) == 0) {
		st = session->setupUnixDomainClient(addr.c_str() + 5);
	} else if (addr.rfind("tcp:", 0) == 0) {
		std::string hp = addr.substr(4);
		size_t colon = hp.rfind(':');
		st = session->setupInetClient(hp.substr(0, colon).c_str(),
					      atoi(hp.c_str() + colon + 1));
	} else {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	if (st != OK) {
		fprintf(stderr, "setup: %d\n", st);
		return 1;
	}
	sp<IBinder> root = session->getRootObject();
	if (!root) {
		fprintf(stderr, "no root object\n");
		return 1;
	}
	printf("protocol version %u\n", session->getProtocolVersion().value_or(0));
	printf("ping %d\n", root->pingBinder());

	sp<Watcher> watcher = sp<Watcher>::make();
	Parcel watch, reply_watch;
	request(watch, root);
	watch.writeStrongBinder(watcher);
	st = call(root, 5, &watch, &reply_watch);
	printf("watch %d exception %d\n", st, reply_watch.readInt32());

	Parcel put, reply;
	request(put, root);
	put.writeString16(String16(u"colour"));
	put.writeString16(String16(u"green"));
	st = call(root, 1, &put, &reply);
	printf("put %d exception %d\n", st, reply.readInt32());

	{
		std::unique_lock<std::mutex> g(watcher->lock);
		watcher->changed.wait_for(g, std::chrono::seconds(5),
					  [&] { return !watcher->last.empty(); });
		printf("callback %s\n", watcher->last.empty() ? "(none)" : watcher->last.c_str());
	}

	Parcel get, reply_get;
	request(get, root);
	get.writeString16(String16(u"colour"));
	st = call(root, 2, &get, &reply_get);
	int32_t ex = reply_get.readInt32();
	printf("get %d exception %d value %s\n", st, ex, String8(reply_get.readString16()).c_str());

	Parcel note;
	request(note, root);
	note.writeString16(String16(u"from-libbinder"));
	st = call(root, 4, &note, nullptr, IBinder::FLAG_ONEWAY);
	printf("note %d\n", st);

	Parcel count, reply_count;
	request(count, root);
	st = call(root, 3, &count, &reply_count);
	ex = reply_count.readInt32();
	printf("count %d exception %d value %d\n", st, ex, reply_count.readInt32());

	Parcel unknown, reply_unknown;
	request(unknown, root);
	printf("unknown code %d\n", call(root, 99, &unknown, &reply_unknown));

	// timing: 2000 count() calls
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < 2000; i++) {
		Parcel c, r;
		request(c, root);
		if (call(root, 3, &c, &r) != OK)
			return 1;
	}
	auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
			  .count();
	printf("2000 count() calls: %.1f us each\n", us / 2000);
	root.clear();
	session->shutdownAndWait(true);
	return 0;
}
