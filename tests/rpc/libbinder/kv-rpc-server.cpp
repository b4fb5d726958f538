// An RPC Binder server built on Android 14's real libbinder (RpcServer):
// serves the example IKeyValue interface (put/get/count/note/watch) as its
// root object, for `ubinder-rpc import` to bring into a ubinder context;
// each put is told to the watchers (oneway onChange, on the connections
// the client offered for incoming calls).
// Usage: kv-rpc-server [--tls CERT KEY PEER_CERT] unix:PATH | tcp:HOST:PORT
// (port 0: the kernel's choice, printed as "serving on tcp:HOST:PORT")
#include <binder/Binder.h>
#include <binder/Parcel.h>
#include <binder/RpcServer.h>
#include <utils/String16.h>
#include <utils/String8.h>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kv-rpc-tls.h"

using namespace android;

class KeyValue : public BBinder
{
	std::mutex lock;
	std::map<std::string, std::string> store;
	std::vector<sp<IBinder>> watchers;

	void notify(const std::string &key, const std::string &value)
	{
		std::vector<sp<IBinder>> targets;
		{
			std::lock_guard<std::mutex> g(lock);
			targets = watchers;
		}
		for (const sp<IBinder> &w : targets) {
			Parcel p;
			p.markForBinder(w);
			p.writeInterfaceToken(String16(u"org.ubinder.example.IKeyValueWatcher"));
			p.writeString16(String16(key.c_str()));
			p.writeString16(String16(value.c_str()));
			status_t st = w->transact(1, p, nullptr, IBinder::FLAG_ONEWAY);
			printf("notified a watcher: %d\n", st);
			fflush(stdout);
		}
	}

	const String16 &getInterfaceDescriptor() const override
	{
		static const String16 d(u"org.ubinder.example.IKeyValue");
		return d;
	}

	status_t onTransact(uint32_t code, const Parcel &data, Parcel *reply,
			    uint32_t flags) override
	{
		if (code < 1 || code > 5)
			return BBinder::onTransact(code, data, reply, flags);
		if (!data.checkInterface(this))
			return PERMISSION_DENIED;
		if (code == 1) {
			std::string k = String8(data.readString16()).c_str();
			std::string v = String8(data.readString16()).c_str();
			{
				std::lock_guard<std::mutex> g(lock);
				store[k] = v;
			}
			notify(k, v);
			return reply->writeInt32(0);
		}
		std::lock_guard<std::mutex> g(lock);
		switch (code) {
		case 2: {
			auto it = store.find(String8(data.readString16()).c_str());
			reply->writeInt32(0);
			if (it == store.end())
				return reply->writeString16(nullptr, 0);
			return reply->writeString16(String16(it->second.c_str()));
		}
		case 3:
			reply->writeInt32(0);
			return reply->writeInt32((int32_t)store.size());
		case 4:
			printf("note: %s\n", String8(data.readString16()).c_str());
			fflush(stdout);
			return OK;
		case 5: {
			sp<IBinder> w = data.readStrongBinder();
			if (!w)
				return BAD_VALUE;
			watchers.push_back(w);
			printf("a watcher registered\n");
			fflush(stdout);
			return reply->writeInt32(0);
		}
		}
		return UNKNOWN_TRANSACTION;
	}
};

int main(int argc, char **argv)
{
	bool bad;
	auto tls = kv_tls_option(&argc, &argv, &bad);
	if (bad || argc != 2 || (strncmp(argv[1], "unix:", 5) && strncmp(argv[1], "tcp:", 4))) {
		fprintf(stderr, "usage: kv-rpc-server [--tls CERT KEY PEER_CERT] unix:PATH|tcp:HOST:PORT\n");
		return 2;
	}
	sp<RpcServer> server = tls ? RpcServer::make(std::move(tls)) : RpcServer::make();
	server->setRootObject(sp<KeyValue>::make());
	std::string addr = argv[1];
	status_t st;
	if (addr.rfind("unix:", 0) == 0) {
		st = server->setupUnixDomainServer(argv[1] + 5);
	} else {
		std::string hp = addr.substr(4);
		size_t colon = hp.rfind(':');
		unsigned port = 0;
		st = server->setupInetServer(hp.substr(0, colon).c_str(),
					     (unsigned)atoi(hp.c_str() + colon + 1), &port);
		addr = "tcp:" + hp.substr(0, colon) + ":" + std::to_string(port);
	}
	if (st != OK) {
		fprintf(stderr, "setup: %d\n", st);
		return 1;
	}
	server->setMaxThreads(2);
	printf("serving on %s\n", addr.c_str());
	fflush(stdout);
	server->join();
	return 0;
}
