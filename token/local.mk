# token
