/* Lets sources that include <openssl/ssl.h> compile unchanged against sesscache (-I include),
 * as long as they use only the session-cache API that sesscache's header declares. */
#include "../ssl.h"
