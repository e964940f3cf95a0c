module github.com/forkwatch/forkwatch

go 1.26
