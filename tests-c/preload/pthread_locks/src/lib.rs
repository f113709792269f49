//! Verification-only stand-in for `parking_lot` (the API subset sesscache uses: `Mutex`,
//! `const_mutex`, `MutexGuard`, `RwLock` and its guards) over pthread locks.
//!
//! Why: parking_lot locks with atomic instructions and futexes, which valgrind's helgrind and
//! drd do not recognise as locks; under them every access to data behind a parking_lot lock
//! looks unsynchronised ("Locks held: none"). With this crate patched in
//! (`[patch.crates-io] parking_lot = { path = ... }`, done by tests-c/preload/run.sh on a copy
//! of the sources) the very same sesscache code locks through pthread_mutex_* and
//! pthread_rwlock_*, which both tools intercept, so what they still report is real.
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

pub struct Mutex<T: ?Sized> {
    raw: UnsafeCell<libc::pthread_mutex_t>,
    data: UnsafeCell<T>,
}

// SAFETY: as for std's Mutex: the data is only reached through a guard, under the lock.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

pub const fn const_mutex<T>(value: T) -> Mutex<T> {
    Mutex { raw: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER), data: UnsafeCell::new(value) }
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        const_mutex(value)
    }
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: a statically initialised mutex that does not move while borrowed.
        let rc = unsafe { libc::pthread_mutex_lock(self.raw.get()) };
        assert_eq!(rc, 0, "pthread_mutex_lock");
        MutexGuard { lock: self }
    }
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mutex { .. }")
    }
}

pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { libc::pthread_mutex_unlock(self.lock.raw.get()) };
    }
}

pub struct RwLock<T: ?Sized> {
    raw: UnsafeCell<libc::pthread_rwlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: as for std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock { raw: UnsafeCell::new(libc::PTHREAD_RWLOCK_INITIALIZER), data: UnsafeCell::new(value) }
    }
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        // SAFETY: a statically initialised rwlock that does not move while borrowed.
        let rc = unsafe { libc::pthread_rwlock_rdlock(self.raw.get()) };
        assert_eq!(rc, 0, "pthread_rwlock_rdlock");
        RwLockReadGuard { lock: self }
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        // SAFETY: as above.
        let rc = unsafe { libc::pthread_rwlock_wrlock(self.raw.get()) };
        assert_eq!(rc, 0, "pthread_rwlock_wrlock");
        RwLockWriteGuard { lock: self }
    }
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RwLock { .. }")
    }
}

pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write lock is held.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds a read lock.
        unsafe { libc::pthread_rwlock_unlock(self.lock.raw.get()) };
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the write lock.
        unsafe { libc::pthread_rwlock_unlock(self.lock.raw.get()) };
    }
}
