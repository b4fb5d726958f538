// An RPC Binder server built on Android 14's real libbinder (RpcServer):
// serves the example IKeyValue interface (put/get/count/note) as its root
// object, for `ubinder-rpc import` to bring into a ubinder context.
// Usage: kv-rpc-server unix:PATH
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

using namespace android;

class KeyValue : public BBinder
{
	std::mutex lock;
	std::map<std::string, std::string> store;

	const String16 &getInterfaceDescriptor() const override
	{
		static const String16 d(u"org.ubinder.example.IKeyValue");
		return d;
	}

	status_t onTransact(uint32_t code, const Parcel &data, Parcel *reply,
			    uint32_t flags) override
	{
		if (code < 1 || code > 4)
			return BBinder::onTransact(code, data, reply, flags);
		if (!data.checkInterface(this))
			return PERMISSION_DENIED;
		std::lock_guard<std::mutex> g(lock);
		switch (code) {
		case 1: {
			std::string k = String8(data.readString16()).c_str();
			store[k] = String8(data.readString16()).c_str();
			return reply->writeInt32(0);
		}
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
		}
		return UNKNOWN_TRANSACTION;
	}
};

int main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "unix:", 5)) {
		fprintf(stderr, "usage: kv-rpc-server unix:PATH\n");
		return 2;
	}
	sp<RpcServer> server = RpcServer::make();
	server->setRootObject(sp<KeyValue>::make());
	status_t st = server->setupUnixDomainServer(argv[1] + 5);
	if (st != OK) {
		fprintf(stderr, "setup: %d\n", st);
		return 1;
	}
	server->setMaxThreads(2);
	printf("serving on %s\n", argv[1]);
	fflush(stdout);
	server->join();
	return 0;
}
