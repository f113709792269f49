//! `sesscache_fleet_configure`, the linked program's way to the fleet tier: arguments it
//! cannot use are refused with 0 (and a line on stderr), never a crash.

use std::ffi::CString;

use sesscache::exports::fleet::sesscache_fleet_configure;

#[test]
fn null_and_non_utf8_arguments_are_refused() {
    let url = CString::new("redis://127.0.0.1:6379/0").unwrap();
    let key_file = CString::new("/nonexistent/sesscache-fleet.key").unwrap();
    let not_utf8 = CString::new(vec![b'r', 0xff, b'x']).unwrap();
    // SAFETY: NULL or NUL-terminated strings that outlive the calls.
    unsafe {
        assert_eq!(sesscache_fleet_configure(std::ptr::null(), key_file.as_ptr()), 0);
        assert_eq!(sesscache_fleet_configure(url.as_ptr(), std::ptr::null()), 0);
        assert_eq!(sesscache_fleet_configure(not_utf8.as_ptr(), key_file.as_ptr()), 0);
        // A key file that cannot be read keeps the tier off.
        assert_eq!(sesscache_fleet_configure(url.as_ptr(), key_file.as_ptr()), 0);
    }
}
