#include "host/common/text.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>

namespace dosemap {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A cell that is one number (possibly with a unit-less exponent) is right-aligned.
bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}
}  // namespace

std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // No overlong forms, surrogates or code points past U+10FFFF.
    ok = ok && !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
         !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string w = lower(word);
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const std::string lc = lower(c);
    size_t d = edit_distance(w, lc);
    // A prefix or suffix match ("fwhm" for "fwhm_um") counts as close.
    if (lc.rfind(w, 0) == 0 || w.rfind(lc, 0) == 0) d = std::min(d, size_t(1));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(2, w.size() / 3);
  return best_d <= limit ? best : std::string();
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string m = closest_match(word, candidates);
  return m.empty() ? std::string() : "did you mean '" + m + "'?";
}

std::string join_alternatives(const std::vector<std::string>& items, const std::string& last) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += (i + 1 == items.size()) ? " " + last + " " : ", ";
    s += items[i];
  }
  return s;
}

std::string fmt_g(double v, int significant) {
  // std::to_chars in general format with a precision prints exactly what printf's %.*g does
  // (the standard defines it so), five times faster: tables of points print millions.
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, significant);
  return std::string(buf, r.ptr);
}

std::string fmt_f(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 6) {
    bytes /= 1000.0;
    ++u;
  }
  return fmt_g(bytes, bytes < 10 ? 2 : 3) + " " + units[u];
}

std::string human_duration(double s) {
  std::string out = fmt_g(s, s < 1e6 ? 7 : 4) + " s";
  if (s >= 120.0) {
    long long total_min = static_cast<long long>(std::llround(s / 60.0));
    long long h = total_min / 60, m = total_min % 60;
    out += h > 0 ? " (" + std::to_string(h) + " h " + std::to_string(m) + " min)"
                 : " (" + std::to_string(m) + " min)";
  }
  return out;
}

namespace {
std::string with_si_prefix(double v, const std::string& unit) {
  struct P { double scale; const char* prefix; };
  const P prefixes[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}};
  if (v == 0) return "0 " + unit;
  // The prefix of the value as shown (3 digits): 999 999.8 Gy is "1 MGy", not "1e+03 kGy".
  const double shown = std::strtod(fmt_g(v, 3).c_str(), nullptr);
  for (const P& p : prefixes)
    if (std::fabs(shown) >= p.scale) return fmt_g(v / p.scale, 3) + " " + p.prefix + unit;
  return fmt_g(v, 3) + " " + unit;
}
}  // namespace

std::string human_dose(double gray) { return with_si_prefix(gray, "Gy"); }
std::string human_rate(double gray_per_s) { return with_si_prefix(gray_per_s, "Gy/s"); }

std::string human_time(double s) {
  if (s < 60) return fmt_g(s, 3) + " s";
  const long long total = std::llround(s);
  const long long h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  if (h == 0) return std::to_string(m) + " min " + std::to_string(sec) + " s";
  return std::to_string(h) + " h " + std::to_string(m) + " min";
}

std::string group_digits(long long n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  std::string out;
  int count = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.insert(out.begin(), ' ');
    out.insert(out.begin(), *it);
    ++count;
  }
  return n < 0 ? "-" + out : out;
}

void TextTable::print(std::ostream& out, const std::string& indent) const {
  std::vector<size_t> width(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto emit = [&](const std::vector<std::string>& row, bool is_header) {
    std::string line = indent;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      const bool right = !is_header && i > 0 && looks_numeric(cell);
      const size_t pad = width[i] - cell.size();
      if (i > 0) line += "  ";
      if (right) line += std::string(pad, ' ') + cell;
      else line += cell + (i + 1 < width.size() ? std::string(pad, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  bool has_header = false;
  for (const auto& h : header_) has_header = has_header || !h.empty();
  if (has_header) {
    emit(header_, true);
    size_t total = 0;
    for (size_t w : width) total += w;
    out << indent << std::string(total + 2 * (width.size() - 1), '-') << "\n";
  }
  for (const auto& r : rows_) emit(r, false);
}

void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& indent) {
  size_t width = 0;
  for (const auto& f : fields) width = std::max(width, f.first.size());
  for (const auto& f : fields) out << indent << f.first << std::string(width - f.first.size() + 2, ' ') << f.second << "\n";
}

}  // namespace dosemap
