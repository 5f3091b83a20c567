// libarchive's description of its last error, which it may not have (a NULL string): a damaged
// archive must still get a message, never a crash while the message is formatted.
#pragma once

#include <archive.h>

#include <string>

namespace ferry::archive {

inline std::string error_text(struct ::archive* a) {
    const char* text = archive_error_string(a);
    if (text == nullptr || *text == '\0') {
        return "the archive is damaged or of an unknown kind (libarchive gave no reason)";
    }
    return text;
}

}  // namespace ferry::archive
