# sk
