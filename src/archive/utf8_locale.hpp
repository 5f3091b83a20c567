// Internal to src/archive: a UTF-8 character locale for the current thread while libarchive
// converts names, so that names are written and read as UTF-8 whatever the process locale is.
#pragma once

#include <locale.h>

namespace ferry::archive {

// Under the "C" locale libarchive mangles UTF-8 names (7z stores names as UTF-16, zip flags
// UTF-8 names only under a UTF-8 locale). uselocale() affects this thread only.
class Utf8Locale {
  public:
    Utf8Locale() {
        static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
        if (utf8 != locale_t{}) {
            previous_ = uselocale(utf8);
        }
    }
    ~Utf8Locale() {
        if (previous_ != locale_t{}) {
            uselocale(previous_);
        }
    }
    Utf8Locale(const Utf8Locale&) = delete;
    Utf8Locale& operator=(const Utf8Locale&) = delete;

  private:
    locale_t previous_{};
};

}  // namespace ferry::archive
