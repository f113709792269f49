/* Oracle half of the handshake_reneg pair: real TLS 1.2 handshakes through libssl. */
#include "tls_oracle.h"
#include "../pair_common.h"
#include "cases.h"
