// Constant replies, encoded once at module load (Redis's createSharedObjects).
import { Buffer } from 'node:buffer'


const b = (s: string): Buffer => Buffer.from(s, 'latin1')

export const OK = b('+OK\r\n')
export const PONG = b('+PONG\r\n')
export const QUEUED = b('+QUEUED\r\n')
export const ZERO = b(':0\r\n')
export const ONE = b(':1\r\n')
export const MINUS_ONE = b(':-1\r\n')
export const MINUS_TWO = b(':-2\r\n')
export const EMPTY_ARRAY = b('*0\r\n')
export const EMPTY_BULK = b('$0\r\n\r\n')
