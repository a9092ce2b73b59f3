// berth's Node addon: the few syscalls Node has no binding for (mknod, extended
// attributes on links, mount/umount2). Every function is synchronous and throws an Error
// shaped like Node's own fs errors (code, errno < 0, syscall, path), so callers can treat
// them like any fs failure. Node-API only, so one build works with every Node release.
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

// Arguments longer than this are refused rather than silently cut (mount data is limited
// to a page by the kernel anyway).
#define MAX_STRING (64 * 1024)

// Throws the JS exception and returns NULL; every function below returns its result.
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  if (code == NULL) code = "UNKNOWN";
  char desc[256];
  snprintf(desc, sizeof desc, "%s", strerror(err));
  // Node's messages (from libuv) start in lower case: "no such file or directory".
  if (desc[0] >= 'A' && desc[0] <= 'Z' && !(desc[1] >= 'A' && desc[1] <= 'Z')) desc[0] = (char)(desc[0] - 'A' + 'a');
  size_t len = strlen(code) + strlen(desc) + strlen(syscall) + (path ? strlen(path) : 0) + 16;
  char *msg = malloc(len);
  if (msg == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (path) snprintf(msg, len, "%s: %s, %s '%s'", code, desc, syscall, path);
  else snprintf(msg, len, "%s: %s, %s", code, desc, syscall);

  napi_value js_code, js_msg, error, js_errno, js_syscall;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg);
  free(msg);
  napi_create_error(env, js_code, js_msg, &error);
  napi_create_int32(env, -err, &js_errno);
  napi_set_named_property(env, error, "errno", js_errno);
  napi_set_named_property(env, error, "code", js_code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall);
  napi_set_named_property(env, error, "syscall", js_syscall);
  if (path) {
    napi_value js_path;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &js_path);
    napi_set_named_property(env, error, "path", js_path);
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

// Reads argument i as a newly allocated UTF-8 string. A null/undefined argument yields
// *out = NULL when nullable, a TypeError otherwise. Returns 0 on success (else it threw).
static int get_string(napi_env env, napi_value *argv, size_t argc, size_t i, int nullable, char **out) {
  *out = NULL;
  napi_valuetype type = napi_undefined;
  if (i < argc) napi_typeof(env, argv[i], &type);
  if (type == napi_undefined || type == napi_null) {
    if (nullable) return 0;
    throw_type(env, "expected a string argument");
    return -1;
  }
  if (type != napi_string) {
    throw_type(env, "expected a string argument");
    return -1;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[i], NULL, 0, &len);
  if (len > MAX_STRING) {
    throw_type(env, "string argument too long");
    return -1;
  }
  char *buf = malloc(len + 1);
  if (buf == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, argv[i], buf, len + 1, &len);
  if (strlen(buf) != len) {
    free(buf);
    throw_type(env, "string argument contains a NUL byte");
    return -1;
  }
  *out = buf;
  return 0;
}

static int get_number(napi_env env, napi_value *argv, size_t argc, size_t i, double *out) {
  napi_valuetype type = napi_undefined;
  if (i < argc) napi_typeof(env, argv[i], &type);
  if (type != napi_number) {
    throw_type(env, "expected a number argument");
    return -1;
  }
  napi_get_value_double(env, argv[i], out);
  return 0;
}

// Reads arguments 0 and 1, the link path and the attribute name every *xattr call takes.
// Returns 0 on success; else it threw and nothing is left to free.
static int get_path_and_name(napi_env env, napi_value *argv, size_t argc, char **path, char **name) {
  if (get_string(env, argv, argc, 0, 0, path)) return -1;
  if (get_string(env, argv, argc, 1, 0, name)) {
    free(*path);
    return -1;
  }
  return 0;
}

#define ARGS(n)            \
  size_t argc = n;         \
  napi_value argv[n];      \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// mknod(path, mode, major, minor): mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO).
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path;
  double mode, major, minor;
  if (get_string(env, argv, argc, 0, 0, &path)) return NULL;
  if (get_number(env, argv, argc, 1, &mode) || get_number(env, argv, argc, 2, &major) ||
      get_number(env, argv, argc, 3, &minor)) {
    free(path);
    return NULL;
  }
  napi_value result = undefined(env);
  if (mknod(path, (mode_t)mode, makedev((unsigned int)major, (unsigned int)minor)) != 0)
    result = throw_errno(env, errno, "mknod", path);
  free(path);
  return result;
}

// lsetxattr(path, name, value: Buffer|Uint8Array)
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *path, *name;
  if (get_path_and_name(env, argv, argc, &path, &name)) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_typed = false;
  if (argc >= 3) napi_is_typedarray(env, argv[2], &is_typed);
  napi_value result = NULL;
  if (!is_typed) {
    throw_type(env, "value must be a Buffer or Uint8Array");
  } else {
    napi_typedarray_type ttype;
    napi_value ab;
    size_t offset;
    napi_get_typedarray_info(env, argv[2], &ttype, &len, &data, &ab, &offset);
    if (lsetxattr(path, name, len ? data : "", len, 0) != 0) result = throw_errno(env, errno, "lsetxattr", path);
    else result = undefined(env);
  }
  free(path);
  free(name);
  return result;
}

// lgetxattr(path, name): Buffer, or null when the attribute does not exist.
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path, *name;
  if (get_path_and_name(env, argv, argc, &path, &name)) return NULL;
  napi_value result = NULL;
  // The size can change between the two calls; retry on ERANGE.
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) napi_get_null(env, &result);
      else result = throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    void *copy;
    napi_value buf;
    napi_create_buffer(env, (size_t)size, &copy, &buf);
    ssize_t got = size ? lgetxattr(path, name, copy, (size_t)size) : 0;
    if (got < 0) {
      if (errno == ERANGE) continue;
      if (errno == ENODATA) napi_get_null(env, &result);
      else result = throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    if (got < size) napi_create_buffer_copy(env, (size_t)got, copy, NULL, &buf);
    result = buf;
    break;
  }
  free(path);
  free(name);
  return result;
}

// llistxattr(path): the attribute names.
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path;
  if (get_string(env, argv, argc, 0, 0, &path)) return NULL;
  napi_value result = NULL;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) {
      result = throw_errno(env, errno, "llistxattr", path);
      break;
    }
    char *list = malloc((size_t)size + 1);
    if (list == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      break;
    }
    ssize_t got = size ? llistxattr(path, list, (size_t)size) : 0;
    if (got < 0) {
      int err = errno;
      free(list);
      if (err == ERANGE) continue;
      result = throw_errno(env, err, "llistxattr", path);
      break;
    }
    napi_create_array(env, &result);
    uint32_t n = 0;
    for (ssize_t off = 0; off < got;) {
      size_t len = strnlen(list + off, (size_t)(got - off));
      if (len > 0) {
        napi_value s;
        napi_create_string_utf8(env, list + off, len, &s);
        napi_set_element(env, result, n++, s);
      }
      off += (ssize_t)len + 1;
    }
    free(list);
    break;
  }
  free(path);
  return result;
}

// lremovexattr(path, name)
static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path, *name;
  if (get_path_and_name(env, argv, argc, &path, &name)) return NULL;
  napi_value result = undefined(env);
  if (lremovexattr(path, name) != 0) result = throw_errno(env, errno, "lremovexattr", path);
  free(path);
  free(name);
  return result;
}

// mount(source|null, target, fstype|null, flags, data|null)
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  double flags;
  napi_value result = NULL;
  if (get_string(env, argv, argc, 0, 1, &source) || get_string(env, argv, argc, 1, 0, &target) ||
      get_string(env, argv, argc, 2, 1, &fstype) || get_number(env, argv, argc, 3, &flags) ||
      get_string(env, argv, argc, 4, 1, &data))
    goto out;
  if (mount(source, target, fstype, (unsigned long)flags, (data && data[0]) ? data : NULL) != 0)
    result = throw_errno(env, errno, "mount", target);
  else
    result = undefined(env);
out:
  free(source);
  free(target);
  free(fstype);
  free(data);
  return result;
}

// umount2(target, flags)
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *target;
  double flags;
  if (get_string(env, argv, argc, 0, 0, &target)) return NULL;
  if (get_number(env, argv, argc, 1, &flags)) {
    free(target);
    return NULL;
  }
  napi_value result = undefined(env);
  if (umount2(target, (int)flags) != 0) result = throw_errno(env, errno, "umount2", target);
  free(target);
  return result;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static void export_int(napi_env env, napi_value exports, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

NAPI_MODULE_INIT() {
  export_fn(env, exports, "mknod", js_mknod);
  export_fn(env, exports, "lsetxattr", js_lsetxattr);
  export_fn(env, exports, "lgetxattr", js_lgetxattr);
  export_fn(env, exports, "llistxattr", js_llistxattr);
  export_fn(env, exports, "lremovexattr", js_lremovexattr);
  export_fn(env, exports, "mount", js_mount);
  export_fn(env, exports, "umount2", js_umount2);
  // The kernel's values, so native.ts can check its own copies against them.
  export_int(env, exports, "MS_RDONLY", MS_RDONLY);
  export_int(env, exports, "MS_NOSUID", MS_NOSUID);
  export_int(env, exports, "MS_NODEV", MS_NODEV);
  export_int(env, exports, "MS_NOEXEC", MS_NOEXEC);
  export_int(env, exports, "MS_REMOUNT", MS_REMOUNT);
  export_int(env, exports, "MS_BIND", MS_BIND);
  export_int(env, exports, "MS_REC", MS_REC);
  export_int(env, exports, "MS_PRIVATE", MS_PRIVATE);
  export_int(env, exports, "MS_SLAVE", MS_SLAVE);
  export_int(env, exports, "MS_SHARED", MS_SHARED);
  export_int(env, exports, "MNT_FORCE", MNT_FORCE);
  export_int(env, exports, "MNT_DETACH", MNT_DETACH);
  return exports;
}
