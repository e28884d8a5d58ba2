/*
 * The public error functions of libusher (usher.h "Error codes"): the
 * project's one table (src/err.h) under public names.
 */
#include "usher_int.h"

const char *usher_strerror(int code)
{
    return err_message(code);
}

const char *usher_errname(int code)
{
    return err_name(code);
}

bool usher_is_refusal(int code)
{
    /* 20-59 domain outcomes, 60-89 limits (src/err.h groups). */
    return code >= 20 && code < 90 && err_is_known(code);
}

const char *usher_version(void)
{
    return USHER_VERSION_STRING;
}
