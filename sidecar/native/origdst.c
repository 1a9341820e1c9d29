// getOriginalDst(fd): the destination a connection had before iptables REDIRECT sent it to the
// sidecar (SO_ORIGINAL_DST, IPv4). Node has no getsockopt, hence this small addon.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "getOriginalDst(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  memset(&addr, 0, sizeof(addr));
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &addr, &len) != 0) {
    char msg[160];
    snprintf(msg, sizeof(msg), "getsockopt(SO_ORIGINAL_DST) on fd %d failed: %s", fd, strerror(errno));
    napi_throw_error(env, errno == ENOENT ? "ENOENT" : "ERR_ORIGINAL_DST", msg);
    return NULL;
  }
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  napi_value result, address, port;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &address);
  napi_create_uint32(env, ntohs(addr.sin_port), &port);
  napi_set_named_property(env, result, "address", address);
  napi_set_named_property(env, result, "port", port);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, get_original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "getOriginalDst", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
