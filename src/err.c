/* Names and messages of enum usher_err, generated from the one table in err.h. */
#include "err.h"

#include <stdbool.h>

const char *err_name(int code)
{
    switch (code) {
#define USHER_ERR_NAME(name, value, msg) \
    case (value):                        \
        return #name;
        USHER_ERR_MAP(USHER_ERR_NAME)
#undef USHER_ERR_NAME
    }
    return "UNKNOWN";
}

static const char unknown_message[] = "unknown error";

const char *err_message(int code)
{
    switch (code) {
#define USHER_ERR_MSG(name, value, msg) \
    case (value):                       \
        return (msg);
        USHER_ERR_MAP(USHER_ERR_MSG)
#undef USHER_ERR_MSG
    }
    return unknown_message;
}

bool err_is_known(int code)
{
    return err_message(code) != unknown_message;
}
