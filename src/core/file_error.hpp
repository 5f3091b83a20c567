// Errors about failed system calls on files, classified: a missing file is not the full disk.
#pragma once

#include <string_view>

#include "core/error.hpp"

namespace ferry {

// A missing file or directory is not_found; anything else (a full disk, no permission, a
// read-only or failing file system) is storage.
ErrorKind errno_kind(int error_number);

// "<path>: <doing>: <errno's text>" ("/srv/data/uploads/x: cannot write: No space left on
// device"), of errno_kind(error_number).
Error file_error(std::string_view path, std::string_view doing, int error_number);

}  // namespace ferry
