// std::vector for large per-voxel arrays. A new allocation arrives zeroed and is not filled
// again (elements are default-initialized): allocations of 4 MB or more are fresh pages
// mapped from the kernel, 2 MB aligned with transparent huge pages requested, so that
// first touch by a parallel producer costs 512 times fewer page faults, and pages nothing
// writes (a component's dose where the component is absent) are never faulted in at all;
// smaller ones are calloc'ed. Zero holds for elements of a new allocation only: elements a
// vector adds within the capacity it already has hold whatever was there.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace dosemap {

template <typename T>
struct BulkAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t(2) << 20;
  static constexpr size_t kLarge = size_t(4) << 20;

  BulkAllocator() = default;
  template <typename U>
  BulkAllocator(const BulkAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kLarge) {
      void* p = std::calloc(n, sizeof(T));
      if (!p && n > 0) throw std::bad_alloc();
      return static_cast<T*>(p);
    }
    // Map a huge page more than asked, keep the 2 MB aligned part, return the rest.
    const size_t rounded = rounded_bytes(n);
    void* raw = ::mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(raw);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + kHugePage - 1) & ~(kHugePage - 1));
    if (aligned > base) ::munmap(base, static_cast<size_t>(aligned - base));
    if (char* end = aligned + rounded; end < base + rounded + kHugePage)
      ::munmap(end, static_cast<size_t>(base + rounded + kHugePage - end));
    ::madvise(aligned, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kLarge) std::free(p);
    else ::munmap(p, rounded_bytes(n));
  }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-init: the allocation is zero already
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const BulkAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const BulkAllocator<U>&) const noexcept { return false; }

 private:
  static size_t rounded_bytes(size_t n) { return (n * sizeof(T) + kHugePage - 1) / kHugePage * kHugePage; }
};

template <typename T>
using BulkVector = std::vector<T, BulkAllocator<T>>;

}  // namespace dosemap
