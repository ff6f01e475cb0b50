/* Test-only fault injection, loaded into the real dosemap with LD_PRELOAD
 * (tests/output_faults_test.cpp). It makes the system calls that write files fail as a
 * full or broken disk does, so that the tests see exactly what a user would:
 *   DOSEMAP_FAULT_WRITE_BYTES=N   write(2)/writev/pwrite to regular files succeed for the
 *                                 first N bytes in all, then fail with ENOSPC
 *   DOSEMAP_FAULT_FSYNC=1         fsync(2) fails with EIO
 *   DOSEMAP_FAULT_READONLY=DIR    creating anything directly in DIR fails with EROFS
 *                                 (as root, permission bits cannot make a directory
 *                                 read-only)
 * Only file descriptors of regular files are affected: stdout, stderr and pipes work. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_llong written;

static int regular_file(int fd) {
  struct stat st;
  return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Bytes this call may write, or -1 (errno set) when the disk is "full". */
static long long allowance(int fd, size_t wanted) {
  const char* limit_text = getenv("DOSEMAP_FAULT_WRITE_BYTES");
  if (!limit_text || !regular_file(fd)) return (long long)wanted;
  const long long limit = atoll(limit_text);
  const long long before = atomic_fetch_add(&written, (long long)wanted);
  if (before >= limit) {
    errno = ENOSPC;
    return -1;
  }
  /* A partial write, as a disk filling up gives. */
  return before + (long long)wanted > limit ? limit - before : (long long)wanted;
}

ssize_t write(int fd, const void* buf, size_t n) {
  static ssize_t (*real)(int, const void*, size_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  const long long ok = allowance(fd, n);
  if (ok < 0) return -1;
  return real(fd, buf, (size_t)ok);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t at) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
  const long long ok = allowance(fd, n);
  if (ok < 0) return -1;
  return real(fd, buf, (size_t)ok, at);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) { return pwrite64(fd, buf, n, at); }

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static ssize_t (*real)(int, const struct iovec*, int);
  if (!real) real = (ssize_t(*)(int, const struct iovec*, int))dlsym(RTLD_NEXT, "writev");
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  const long long ok = allowance(fd, total);
  if (ok < 0) return -1;
  if ((size_t)ok == total) return real(fd, iov, count);
  /* Partial: write the allowed prefix of the first buffers. */
  ssize_t done = 0;
  for (int i = 0; i < count && done < ok; ++i) {
    size_t part = iov[i].iov_len;
    if ((long long)(done + part) > ok) part = (size_t)(ok - done);
    struct iovec one = {iov[i].iov_base, part};
    const ssize_t w = real(fd, &one, 1);
    if (w < 0) return done > 0 ? done : -1;
    done += w;
  }
  return done;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (getenv("DOSEMAP_FAULT_FSYNC") && regular_file(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

/* Whether `path` names an entry directly inside the "read-only" directory. */
static int in_readonly_dir(const char* path) {
  const char* dir = getenv("DOSEMAP_FAULT_READONLY");
  if (!dir || !path) return 0;
  const size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && path[n] == '/' && strchr(path + n + 1, '/') == NULL;
}

static int open_unless_readonly(const char* path, int flags, mode_t mode) {
  static int (*real)(const char*, int, ...);
  if (!real) real = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open");
  if ((flags & O_CREAT) && in_readonly_dir(path)) {
    errno = EROFS;
    return -1;
  }
  return real(path, flags, mode);
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE_OF(flags, mode)                 \
  do {                                       \
    if ((flags) & (O_CREAT | O_TMPFILE)) {   \
      va_list ap;                            \
      va_start(ap, flags);                   \
      mode = (mode_t)va_arg(ap, int);        \
      va_end(ap);                            \
    }                                        \
  } while (0)

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  MODE_OF(flags, mode);
  return open_unless_readonly(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  MODE_OF(flags, mode);
  return open_unless_readonly(path, flags, mode);
}

int mkdir(const char* path, mode_t mode) {
  static int (*real)(const char*, mode_t);
  if (!real) real = (int (*)(const char*, mode_t))dlsym(RTLD_NEXT, "mkdir");
  if (in_readonly_dir(path)) {
    errno = EROFS;
    return -1;
  }
  return real(path, mode);
}
